import KernelPluginABI
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Opens plugin shared objects and validates them. A plugin is opened with
/// `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` and never closed: Swift-built plugins leave runtime
/// metadata behind that a later cast could touch (docs/platform-notes.md, "Swift plugins and dlopen"), so "unload" does not exist here.
public enum PluginLoader {
    /// Smallest file that can be an ELF shared object (the ELF64 header alone is 64 bytes).
    static let minimumELFSize = 64

    /// Loads and validates one plugin file. It is not initialised yet: see `LoadedPlugin.instantiate`.
    public static func load(path: String) throws(PluginLoadError) -> LoadedPlugin {
        try probeFile(path)
        return try open(objectPath: path, reportedPath: path)
    }

    /// The name to hand dlopen for a file `path`: dlopen searches the library path for a name
    /// without a `/` (`libx.so` would not mean the file in the current directory).
    static func dlopenName(_ path: String) -> String {
        path.utf8.contains(UInt8(ascii: "/")) ? path : "./" + path
    }

    /// dlopens a probed file and reads its descriptor. `objectPath` is what the dynamic loader
    /// maps; `reportedPath` is the name used in errors and logs (they differ for a snapshot).
    static func open(objectPath: String, reportedPath path: String) throws(PluginLoadError) -> LoadedPlugin {
        // The file stays open: a plugin-host child maps the very same bytes through it
        // (`PluginHostProcess`), whatever happens to the name (a snapshot is unlinked at once).
        let image = Glibc.open(objectPath, O_RDONLY | O_CLOEXEC)
        var keep = false
        defer { if !keep && image >= 0 { close(image) } }
        // dlopen runs the object's constructors; nothing in a valid plugin may fail there, but a
        // broken file surfaces as a dlerror we report verbatim.
        _ = dlerror()
        guard let handle = dlopen(dlopenName(objectPath), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
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
        keep = image >= 0
        return LoadedPlugin(path: path, raw: descriptor, descriptor: model, imageFD: image >= 0 ? image : nil)
    }

    /// Refuses what is not a complete shared object before dlopen sees it. This is a safety
    /// check, not a courtesy: the dynamic loader maps the segments the ELF headers describe, and
    /// touching a mapped page past the end of a truncated file raises SIGBUS in the kernel
    /// process. So every loadable segment and the header tables must lie inside the file.
    static func probeFile(_ path: String, reportedPath: String? = nil) throws(PluginLoadError) {
        func refuse(_ reason: PluginLoadError.Reason, _ detail: String) -> PluginLoadError {
            PluginLoadError(path: reportedPath ?? path, reason: reason, detail: detail)
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw refuse(.notFound, "cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw refuse(.notRegularFile, "not a regular file") }
        guard let file = fopen(path, "rb") else { throw refuse(.notFound, "cannot open: \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        let size = UInt64(st.st_size)
        func read(at offset: UInt64, count: Int) -> [UInt8]? {
            guard offset <= size, UInt64(count) <= size - offset, fseeko(file, off_t(offset), SEEK_SET) == 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: count)
            return fread(&buffer, 1, count, file) == count ? buffer : nil
        }
        guard let h = read(at: 0, count: Int(minimumELFSize)),
              h[0] == 0x7F, h[1] == UInt8(ascii: "E"), h[2] == UInt8(ascii: "L"), h[3] == UInt8(ascii: "F") else {
            throw refuse(.notSharedObject, "not an ELF file")
        }
        guard h[4] == 2, h[5] == 1 else { throw refuse(.notSharedObject, "not a 64-bit little-endian ELF file") }
        func u16(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(b[o]) | UInt64(b[o + 1]) << 8 }
        func u32(_ b: [UInt8], _ o: Int) -> UInt64 { u16(b, o) | u16(b, o + 2) << 16 }
        func u64(_ b: [UInt8], _ o: Int) -> UInt64 { u32(b, o) | u32(b, o + 4) << 32 }
        guard u16(h, 16) == 3 else { throw refuse(.notSharedObject, "ELF file is not a shared object (e_type \(u16(h, 16)))") }
        #if arch(x86_64)
        let machine: UInt64 = 62
        #elseif arch(arm64)
        let machine: UInt64 = 183
        #else
        let machine = u16(h, 18)
        #endif
        guard u16(h, 18) == machine else {
            throw refuse(.notSharedObject, "built for another machine (e_machine \(u16(h, 18)))")
        }
        let phoff = u64(h, 32), shoff = u64(h, 40)
        let phentsize = u16(h, 54), phnum = u16(h, 56), shentsize = u16(h, 58), shnum = u16(h, 60)
        guard phnum > 0, phentsize >= 56, phoff <= size, phnum * phentsize <= size - phoff else {
            throw refuse(.notSharedObject, "truncated or malformed ELF program headers (file is \(size) bytes)")
        }
        if shnum > 0 {
            guard shentsize >= 64, shoff <= size, shnum * shentsize <= size - shoff else {
                throw refuse(.notSharedObject, "truncated ELF file: section headers end past the file (\(size) bytes)")
            }
        }
        guard let table = read(at: phoff, count: Int(phnum * phentsize)) else {
            throw refuse(.notSharedObject, "cannot read ELF program headers")
        }
        for i in 0..<Int(phnum) {
            let o = i * Int(phentsize)
            let type = u32(table, o), offset = u64(table, o + 8), fileSize = u64(table, o + 32)
            // PT_LOAD (1) and PT_DYNAMIC (2) are mapped or read by the loader.
            if type == 1 || type == 2 {
                guard offset <= size, fileSize <= size - offset else {
                    throw refuse(.notSharedObject, "truncated ELF file: segment \(i) ends at \(offset &+ fileSize), file is \(size) bytes")
                }
            }
        }
    }
}

/// A validated plugin file: its descriptor, ready to be instantiated.
public final class LoadedPlugin: @unchecked Sendable {
    // @unchecked: `raw` holds function pointers into a never-unloaded object; immutable after init.
    public let path: String
    public let descriptor: PluginDescriptor
    let raw: kp_plugin_descriptor
    /// The loaded file, open read-only: what a plugin-host child loads (through
    /// `/proc/self/fd`), so it runs exactly the code the kernel validated.
    public let imageFD: Int32?

    init(path: String, raw: kp_plugin_descriptor, descriptor: PluginDescriptor, imageFD: Int32? = nil) {
        self.path = path
        self.raw = raw
        self.descriptor = descriptor
        self.imageFD = imageFD
    }

    deinit { if let imageFD { close(imageFD) } }

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
        return PluginInstance(plugin: self, state: state, configJSON: configJSON)
    }
}
