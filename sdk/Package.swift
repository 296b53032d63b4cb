// swift-tools-version: 6.1
// The Data Kernel plugin SDK, on its own: what a plugin author depends on, without the kernel's
// server dependencies (only swift-log, for the conformance kit's loader).
//
//   .package(path: "../data-kernel/sdk")
//   .product(name: "KernelPluginSDK", package: "sdk")          // the plugin target
//   .product(name: "KernelPluginTesting", package: "sdk")      // its tests: the conformance kit
//
// The sources are the kernel's own (the folders under Sources/ link to the repository's), so the
// plugin, the kit and the kernel always agree on the ABI and on the limits of kernel_plugin.h.
// docs/plugins.md, "Out-of-tree plugins", walks through it.
import PackageDescription

let package = Package(
    name: "KernelPluginSDK",
    platforms: [.macOS(.v14)],
    products: [
        // The SDK plus the export map: a plugin's .so exports only its entry symbol.
        .library(name: "KernelPluginSDK", targets: ["KernelPluginSDK", "KernelPluginExportMap"]),
        // The conformance kit: loads a built plugin with the kernel's own loader and output checks.
        .library(name: "KernelPluginTesting", targets: ["KernelPluginTesting"]),
        // The C header alone, for a C plugin built by SwiftPM.
        .library(name: "KernelPluginABI", targets: ["KernelPluginABI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .target(name: "KernelPluginABI"),
        .target(name: "KernelJSON"),
        .target(name: "KernelPluginSDK", dependencies: ["KernelPluginABI", "KernelJSON"]),
        // SwiftPM accepts unsafeFlags from a package depended on by path (measured with SwiftPM
        // 6.3.1), and passes a target's linker settings to every product that links it: so the
        // author's manifest needs no flag. A dependency by URL refuses unsafeFlags: see
        // docs/plugins.md for what that means.
        .target(name: "KernelPluginExportMap", linkerSettings: [
            .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/plugin-exports.map"]),
        ]),
        .target(name: "KernelEvents", dependencies: ["KernelJSON"]),
        // Threads, clocks and the seeded generator the conformance kit draws hostile inputs from.
        .target(name: "KernelRuntime"),
        .target(name: "KernelPlugins", dependencies: [
            "KernelPluginABI", "KernelJSON", "KernelEvents", "KernelPluginSDK", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "KernelPluginTesting", dependencies: [
            "KernelPlugins", "KernelJSON", "KernelRuntime", .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
