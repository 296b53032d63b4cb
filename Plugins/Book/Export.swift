import KernelPluginSDK

/// The plugin's one exported symbol (Plugins/plugin-exports.map hides everything else).
@_cdecl("kernel_plugin_entry_v1")
public func kernelPluginEntry() -> UnsafeRawPointer {
    KernelPluginExport.entry(BookNormalizer.self)
}
