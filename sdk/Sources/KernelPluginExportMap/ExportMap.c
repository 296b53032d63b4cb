/* This target carries no code: one autolink entry, so that every shared object linking the
   KernelPluginSDK product is linked with plugin-exports.map and exports `kernel_plugin_entry_v1`
   alone, with no flag in the author's manifest and none in the SDK's either (SwiftPM refuses
   unsafeFlags from a package depended on by URL with a version requirement).

   On Linux the Swift driver runs swift-autolink-extract over every object of a link and passes the
   strings of their `.swift1_autolink_entries` sections to the link as arguments: that is how a
   Swift module asks for its libraries (`-lswiftCore`). The entry below asks for the version
   script instead. The compiler marks the section SHF_EXCLUDE, so it does not reach the plugin
   (nor does the path). DK_PLUGIN_EXPORT_MAP, a C string literal, is defined by sdk/Package.swift
   from the package's own folder, wherever SwiftPM put it (a clone or .build/checkouts/…).
   A version script is an ELF linker's notion: elsewhere this file is empty.
   docs/plugins.md, "Out-of-tree plugins", has the measurements. */
#if defined(__ELF__)
__attribute__((section(".swift1_autolink_entries"), used))
static const char kernel_plugin_export_map_entry[] = "-Xlinker\0--version-script=" DK_PLUGIN_EXPORT_MAP;
#endif
