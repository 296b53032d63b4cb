import KernelPluginABI
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Opens plugin shared objects and validates them. A plugin is opened with
/// `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` and never closed: Swift-built plugins leave runtime
/// metadata behind that a later cast could touch (PITFALLS.md), so "unload" does not exist here.
public enum PluginLoader {
    /// Smallest file that can be an ELF shared object (the ELF64 header alone is 64 bytes).
    static let minimumELFSize = 64

    /// Loads and validates one plugin file. It is not initialised yet: see `LoadedPlugin.instantiate`.
    public static func load(path: String) throws(PluginLoadError) -> LoadedPlugin {
        try probeFile(path)
        // dlopen runs the object's constructors; nothing in a valid plugin may fail there, but a
        // broken file surfaces as a dlerror we report verbatim.
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw PluginLoadError(path: path, reason: .dlopenFailed, detail: message)
        }
        _ = dlerror()
        guard let symbol = dlsym(handle, KP_ENTRY_SYMBOL) else {
            throw PluginLoadError(path: path, reason: .missingEntrySymbol,
                                  detail: "no exported symbol \(KP_ENTRY_SYMBOL)")
        }
        let entry = unsafeBitCast(symbol, to: kp_entry_fn.self)
        guard let raw = entry() else {
            throw PluginLoadError(path: path, reason: .nullDescriptor, detail: "\(KP_ENTRY_SYMBOL)() returned NULL")
        }
        let (descriptor, model) = try DescriptorReader.read(UnsafeRawPointer(raw), path: path)
        return LoadedPlugin(path: path, raw: descriptor, descriptor: model)
    }

    /// Refuses what is plainly not a shared object before dlopen sees it, with a clearer message
    /// than the dynamic loader gives (and without mapping a half-copied file).
    static func probeFile(_ path: String) throws(PluginLoadError) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw PluginLoadError(path: path, reason: .notFound, detail: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw PluginLoadError(path: path, reason: .notRegularFile, detail: "not a regular file")
        }
        guard let file = fopen(path, "rb") else {
            throw PluginLoadError(path: path, reason: .notFound, detail: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var header = [UInt8](repeating: 0, count: 18)
        let n = fread(&header, 1, header.count, file)
        guard n == header.count, Int(st.st_size) >= minimumELFSize,
              header[0] == 0x7F, header[1] == UInt8(ascii: "E"), header[2] == UInt8(ascii: "L"), header[3] == UInt8(ascii: "F")
        else {
            throw PluginLoadError(path: path, reason: .notSharedObject, detail: "not an ELF file")
        }
        // e_type at offset 16 (little-endian on our targets): 3 = ET_DYN (shared object).
        guard header[16] == 3, header[17] == 0 else {
            throw PluginLoadError(path: path, reason: .notSharedObject, detail: "ELF file is not a shared object (e_type \(header[16]))")
        }
    }
}

/// A validated plugin file: its descriptor, ready to be instantiated.
public final class LoadedPlugin: @unchecked Sendable {
    // @unchecked: `raw` holds function pointers into a never-unloaded object; immutable after init.
    public let path: String
    public let descriptor: PluginDescriptor
    let raw: kp_plugin_descriptor

    init(path: String, raw: kp_plugin_descriptor, descriptor: PluginDescriptor) {
        self.path = path
        self.raw = raw
        self.descriptor = descriptor
    }

    /// The file name, as used in log lines.
    public var fileName: String { path.split(separator: "/").last.map(String.init) ?? path }

    /// Calls the plugin's `init` with its configuration (a JSON object text).
    public func instantiate(configJSON: String = "{}", logger: Logger) throws(PluginLoadError) -> PluginInstance {
        var pluginLogger = logger
        pluginLogger[metadataKey: "plugin"] = .string(descriptor.name)
        let services = HostServices.make(logger: pluginLogger)
        var state: UnsafeMutableRawPointer?
        var message = ""
        let status: kp_status = withUnsafeTemporaryAllocation(of: CChar.self, capacity: PluginInstance.errorCapacity) { err in
            err.initialize(repeating: 0)
            let st = configJSON.withCString { cfg in
                raw.`init`(services, cfg, strlen(cfg), &state, err.baseAddress, err.count)
            }
            err[err.count - 1] = 0
            message = String(cString: err.baseAddress!)
            return st
        }
        guard status == KP_OK else {
            throw PluginLoadError(path: path, reason: .initFailed,
                                  detail: "init returned \(status.rawValue)" + (message.isEmpty ? "" : ": \(message)"))
        }
        return PluginInstance(plugin: self, state: state)
    }
}
