// swift-tools-version: 6.1
// The Data Kernel plugin SDK, on its own: what a plugin author depends on, without the kernel's
// server dependencies (only swift-log, for the conformance kit's loader).
//
//   .package(path: "../data-kernel/sdk")
//   .product(name: "KernelPluginSDK", package: "sdk")          // the plugin target
//   .product(name: "KernelPluginTesting", package: "sdk")      // its tests: the conformance kit
//
// By URL too, e.g. .package(url: "https://…/data-kernel-sdk.git", from: "1.0.0"): no target
// here has unsafe flags.
//
// The sources are the kernel's own (the folders under Sources/ link to the repository's), so the
// plugin, the kit and the kernel always agree on the ABI and on the limits of kernel_plugin.h.
// docs/plugins.md, "Out-of-tree plugins", walks through it.
import PackageDescription

/// The export map's path as the C string literal ExportMap.c puts in its autolink entry, escaped
/// twice: for the Swift driver's response file (a backslash before a space, quote or backslash,
/// as the GNU syntax of response files wants), then for C (a backslash before `\` and `"`).
let exportMapLiteral: String = {
    var responseFile = ""
    for c in Context.packageDirectory + "/plugin-exports.map" {
        if c == " " || c == "\t" || c == "\"" || c == "'" || c == "\\" { responseFile.append("\\") }
        responseFile.append(c)
    }
    var literal = "\""
    for c in responseFile {
        if c == "\"" || c == "\\" { literal.append("\\") }
        literal.append(c)
    }
    return literal + "\""
}()

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
        // No code: an autolink entry (Sources/KernelPluginExportMap/ExportMap.c) that links every
        // library linking the KernelPluginSDK product with plugin-exports.map. Not a linker setting:
        // that would be an unsafeFlags, which SwiftPM refuses from a package depended on by URL
        // with a version (docs/plugins.md, "Out-of-tree plugins").
        .target(name: "KernelPluginExportMap", cSettings: [.define("DK_PLUGIN_EXPORT_MAP", to: exportMapLiteral)]),
        .target(name: "KernelEvents", dependencies: ["KernelJSON"]),
        // Threads, clocks, whole-buffer fd I/O (the plugin-host pipes) and the seeded generator the
        // conformance kit draws hostile inputs from.
        .target(name: "KernelRuntime"),
        // Schema families, columns, values and tags (shared with the kernel's store).
        .target(name: "KernelSchema"),
        .target(name: "KernelPlugins", dependencies: [
            "KernelPluginABI", "KernelJSON", "KernelEvents", "KernelPluginSDK", "KernelSchema", "KernelRuntime", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "KernelPluginTesting", dependencies: [
            "KernelPlugins", "KernelJSON", "KernelRuntime", .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
