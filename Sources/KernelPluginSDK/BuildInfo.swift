/// The toolchain a plugin was compiled with, for `kp_plugin_descriptor.build_info`.
///
/// Swift has no stable ABI on Linux, so the kernel's loader compares this with its own toolchain
/// (`HostToolchain` in KernelPlugins, this ladder compiled into the kernel) and refuses a mismatch,
/// at start-up, on a hot load and in `kernel plugins check`. Computed at compile time of the SDK
/// copy linked into the plugin, which is the same compiler that built the plugin. Two compilers past the newest rung
/// (`6.3.2+`) read alike: add a rung when a new toolchain is adopted.
public enum BuildInfo {
    /// E.g. `"swift-6.3.1"`. Unknown newer compilers report the newest version listed here
    /// with a `+` suffix (`"swift-6.4+"`), never a wrong exact version.
    public static let toolchain: String = {
        #if compiler(>=6.5)
        return "swift-6.5+"
        #elseif compiler(>=6.4)
        return "swift-6.4"
        #elseif compiler(>=6.3.2)
        return "swift-6.3.2+"
        #elseif compiler(>=6.3.1)
        return "swift-6.3.1"
        #elseif compiler(>=6.3)
        return "swift-6.3"
        #elseif compiler(>=6.2)
        return "swift-6.2"
        #elseif compiler(>=6.1)
        return "swift-6.1"
        #else
        return "swift-6.0"
        #endif
    }()
}
