import KernelPluginSDK

/// The Swift toolchain the kernel was compiled with, in the form the SDK writes into a Swift
/// plugin's `build_info` (`swift-6.3.1`).
///
/// Swift has no stable ABI on Linux: a Swift plugin built by another toolchain may load and then
/// crash. So the loader compares a Swift plugin's toolchain with this one and refuses a mismatch
/// (`toolchain_mismatch`); C plugins, whose boundary is the header alone, are never compared.
public enum HostToolchain {
    /// The SDK's ladder, compiled here by the compiler that builds the kernel (one ladder: the
    /// kernel and its plugins cannot disagree on how a toolchain is named).
    public static let swift: String = BuildInfo.toolchain

    /// The one line the kernel prints about itself (`--version`, start-up, `plugins list`).
    public static var line: String { "toolchain \(swift) (Swift plugins must be built with it; C plugins with any compiler)" }

    /// The Swift toolchain a plugin's `build_info` names, or nil for a plugin not built by the
    /// Swift SDK. The SDK writes the toolchain as the first word (`swift-6.3.1`, possibly
    /// followed by more text).
    public static func pluginToolchain(buildInfo: String) -> String? {
        let first = buildInfo.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        return first.hasPrefix("swift-") ? first : nil
    }

    /// Why a plugin built with `buildInfo` must not be loaded here, or nil when it may.
    public static func mismatch(buildInfo: String) -> String? {
        guard let plugin = pluginToolchain(buildInfo: buildInfo), plugin != swift else { return nil }
        return "plugin built with \(plugin), kernel built with \(swift): Swift has no stable ABI on Linux, "
            + "rebuild the plugin with the kernel's toolchain (or write it in C against kernel_plugin.h)"
    }
}
