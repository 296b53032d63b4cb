import KernelPluginSDK

/// The plugin's one exported symbol (sdk/plugin-exports.map, applied by the SDK package, hides everything else).
@_cdecl("kernel_plugin_entry_v1")
public func kernelPluginEntry() -> UnsafeRawPointer {
    KernelPluginExport.entry(BookNormalizer.self)
}
