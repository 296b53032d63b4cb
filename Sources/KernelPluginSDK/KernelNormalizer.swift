/// A normalizer plugin written in Swift.
///
/// Conform a final class to this protocol and add one export line to the plugin target; the SDK
/// does all C bridging (descriptor, trampolines, error buffers):
///
/// ```swift
/// @_cdecl("kernel_plugin_entry_v1")
/// public func kernelPluginEntry() -> UnsafeRawPointer {
///     KernelPluginExport.entry(TradeNormalizer.self)
/// }
/// ```
///
/// A Swift plugin must be built with the same Swift toolchain as the kernel (Swift has no stable
/// ABI on Linux); only the C header is a stable boundary. `PluginInfo.buildInfo` records the
/// toolchain so `kernel plugins check` can show it.
public protocol KernelNormalizer: AnyObject {
    /// The plugin's static description: name, version and the families it serves. Read once, on
    /// the first call of the entry symbol, and turned into the C descriptor.
    static var plugin: PluginInfo { get }

    /// Creates the plugin instance. `config` is the plugin's section of the kernel config (an
    /// object, `{}` when absent). Throw `PluginError.config` to have the host refuse the plugin.
    init(config: JSONValue, host: HostServices) throws(PluginError)

    /// Normalizes one event into `out`.
    ///
    /// The SDK has already checked that the event's family is one of `plugin.families` and its
    /// schema version within that family's range. Throw `NormalizeError.invalidPayload` to
    /// dead-letter the event; everything written to `out` is then discarded by the host.
    /// Called from any host thread; concurrently only if `PluginInfo.threadSafe` is true.
    func normalize(_ event: Event, into out: inout Output) throws(NormalizeError)
}
