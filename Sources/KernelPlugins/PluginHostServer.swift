import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The child's side of `PluginHostProcess` (`kernel plugin-host`): loads the plugin from the file
/// the kernel handed over, initialises it with the kernel's configuration for it, then answers
/// normalize requests until the socket closes.
///
/// Each request runs through `PluginInstance.normalizeBatch`, exactly as in process, with the
/// child's one breadcrumb slot naming the position of the event being normalized; the fault
/// handler (`CrashSignals`) writes the signal there before the child dies.
public enum PluginHostServer {
    /// Serves until the kernel closes the socket (0) or something fails (1).
    public static func run(socketFD fd: Int32, imageFD: Int32, breadcrumbPath: String, capacity: Int,
                           logger: Logger) -> Int32 {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var writer = ByteWriter(capacity: 1 << 20)
        // hello → the instance, or a refusal the kernel logs.
        let instance: PluginInstance
        let crumb: CallBreadcrumb
        do {
            guard try PluginHostProtocol.receive(fd: fd, into: &buffer) else { return 0 }
            let (config, name, version) = try PluginHostProtocol.reading(buffer) { r throws(PluginHostError) in
                guard try r.u8() == PluginHostProtocol.hello else { throw PluginHostError.protocolViolation("expected hello") }
                return (try r.string(), try r.string(), try r.string())
            }
            switch load(imageFD: imageFD, name: name, version: version, config: config, logger: logger) {
            case .failure(let failure):
                writer.reset()
                writer.u8(PluginHostProtocol.hello); writer.u8(0); writer.string(failure.message)
                try PluginHostProtocol.send(&writer, fd: fd)
                return 1
            case .success(let loaded):
                instance = loaded
            }
            do { crumb = try CallBreadcrumb(path: breadcrumbPath, slots: 1, capacity: capacity) } catch {
                writer.reset()
                writer.u8(PluginHostProtocol.hello); writer.u8(0); writer.string("breadcrumb: \(error)")
                try PluginHostProtocol.send(&writer, fd: fd)
                return 1
            }
            crumb.begin()
            writer.reset()
            writer.u8(PluginHostProtocol.hello); writer.u8(1); writer.string("")
            try PluginHostProtocol.send(&writer, fd: fd)
        } catch {
            logger.error("plugin host: handshake failed", metadata: ["details": .string("\(error)")])
            return 1
        }
        let slot = crumb.slot(0)
        CrashSignals.installAlternateStack()
        let d = instance.descriptor
        let version = d.version.description
        // Positions as text, made once: the breadcrumb names entries by text.
        let positions = (0..<capacity).map(String.init)
        while true {
            do {
                guard try PluginHostProtocol.receive(fd: fd, into: &buffer) else { break }
                let (events, budget) = try PluginHostProtocol.reading(buffer) { r throws(PluginHostError) in
                    try PluginHostProtocol.decodeRequest(&r, frame: buffer)
                }
                guard events.count <= capacity else { throw PluginHostError.protocolViolation("\(events.count) events > capacity") }
                slot.prepare(plugin: d.name, version: version, family: events.first?.family ?? "", refs: positions[..<events.count])
                let (results, timing) = instance.normalizeBatch(events, budgetNanos: budget, breadcrumb: slot)
                writer.reset()
                PluginHostProtocol.encodeResults(results, timing: timing, into: &writer)
                try PluginHostProtocol.send(&writer, fd: fd)
            } catch {
                logger.error("plugin host: request failed", metadata: ["details": .string("\(error)")])
                crumb.end()
                return 1
            }
        }
        crumb.end()
        return 0
    }

    private static func load(imageFD: Int32, name: String, version: String, config: String, logger: Logger)
        -> Result<PluginInstance, LoadFailure>
    {
        do {
            let loaded = try PluginLoader.load(path: "/proc/self/fd/\(imageFD)")
            let d = loaded.descriptor
            guard d.name == name, d.version.description == version else {
                return .failure(LoadFailure("the file holds \(d.name) \(d.version), the kernel loaded \(name) \(version)"))
            }
            return .success(try loaded.instantiate(configJSON: config, logger: logger))
        } catch {
            return .failure(LoadFailure("\(error)"))
        }
    }

    struct LoadFailure: Error { var message: String; init(_ m: String) { message = m } }
}

extension PluginHostServer.LoadFailure: CustomStringConvertible { var description: String { message } }
