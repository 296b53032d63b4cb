import KernelPluginABI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bridge between a `KernelNormalizer` type and the C ABI.
///
/// Each plugin `.so` links its own static copy of the SDK (and exports only the entry symbol),
/// so the registration below is per plugin: one normalizer type per shared object.
public enum KernelPluginExport {
    /// Returns the plugin's C descriptor (`const kp_plugin_descriptor *`), building it on the
    /// first call: every later call returns the same pointer. Call it from the plugin's
    /// `kernel_plugin_entry_v1`, with the plugin's one normalizer type.
    public static func entry<N: KernelNormalizer>(_ type: N.Type) -> UnsafeRawPointer {
        pthread_mutex_lock(registrationLock)
        defer { pthread_mutex_unlock(registrationLock) }
        if let existing = registration { return UnsafeRawPointer(existing.descriptor) }
        let info = N.plugin
        let built = Registration(type: type, descriptor: DescriptorBuilder.build(info), info: info)
        registration = built
        return UnsafeRawPointer(built.descriptor)
    }

    /// The registration made by `entry`, read under the lock.
    static func current() -> Registration? {
        pthread_mutex_lock(registrationLock)
        defer { pthread_mutex_unlock(registrationLock) }
        return registration
    }

    /// What the entry call registered: the type to instantiate and the descriptor built for it.
    struct Registration {
        let type: any KernelNormalizer.Type
        let descriptor: UnsafePointer<kp_plugin_descriptor>
        let info: PluginInfo
    }

    // MARK: trampolines (C → Swift); none lets a Swift error cross into C.

    static func initialize(
        host: UnsafePointer<kp_host_services>?, config: UnsafePointer<CChar>?, configLength: Int,
        state: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, err: UnsafeMutablePointer<CChar>?, errCap: Int
    ) -> kp_status {
        func failed(_ status: kp_status, _ message: String) -> kp_status {
            ErrorBuffer.write(message, to: err, capacity: errCap)
            return status
        }
        guard let state else { return failed(KP_ERR_INTERNAL, "init: the host passed a NULL state pointer") }
        state.pointee = nil
        guard let registration = current() else {
            return failed(KP_ERR_INTERNAL, "init: kernel_plugin_entry_v1 was not called first")
        }
        var configValue = JSONValue.object(JSONObject())
        if let config, configLength > 0 {
            do {
                configValue = try JSONParser.parse(UnsafeRawBufferPointer(start: config, count: configLength), maxDepth: 64)
            } catch {
                return failed(KP_ERR_CONFIG, "plugin \(registration.info.name): config is not valid JSON: \(error)")
            }
            guard case .object = configValue else {
                return failed(KP_ERR_CONFIG, "plugin \(registration.info.name): config must be a JSON object")
            }
        }
        do {
            let normalizer = try registration.type.init(config: configValue, host: HostServices(host))
            let box = NormalizerBox(normalizer: normalizer, info: registration.info)
            state.pointee = Unmanaged.passRetained(box).toOpaque()
            return KP_OK
        } catch {
            switch error {
            case .config(let m): return failed(KP_ERR_CONFIG, m)
            case .internal(let m): return failed(KP_ERR_INTERNAL, m)
            }
        }
    }

    static func normalize(
        state: UnsafeMutableRawPointer?, event: UnsafePointer<kp_event>?, out: UnsafePointer<kp_output>?,
        err: UnsafeMutablePointer<CChar>?, errCap: Int
    ) -> kp_status {
        guard let state, let event, let out else {
            ErrorBuffer.write("normalize: NULL state, event or output", to: err, capacity: errCap)
            return KP_ERR_INTERNAL
        }
        let box = Unmanaged<NormalizerBox>.fromOpaque(state).takeUnretainedValue()
        guard let error = box.normalize(event, out) else { return KP_OK }
        ErrorBuffer.write(error.message, to: err, capacity: errCap)
        switch error {
        case .invalidPayload: return KP_ERR_INVALID_PAYLOAD
        case .unsupportedVersion: return KP_ERR_UNSUPPORTED_VERSION
        case .internal: return KP_ERR_INTERNAL
        }
    }

    static func destroy(state: UnsafeMutableRawPointer?) {
        guard let state else { return }
        Unmanaged<NormalizerBox>.fromOpaque(state).release()
    }
}

// Per-plugin globals (see `KernelPluginExport`). Guarded by `registrationLock`; the lock itself is
// created by Swift's thread-safe lazy global initialisation.
nonisolated(unsafe) private var registration: KernelPluginExport.Registration?
nonisolated(unsafe) private let registrationLock: UnsafeMutablePointer<pthread_mutex_t> = {
    let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(lock, nil)
    return lock
}()
