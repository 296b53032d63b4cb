// This module carries no code. It exists for its linker setting (sdk/Package.swift): every
// dynamic library that links the KernelPluginSDK product is linked with plugin-exports.map, so a
// plugin exports `kernel_plugin_entry_v1` and nothing else, without a flag in the author's manifest.
