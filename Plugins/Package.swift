// swift-tools-version: 6.1
// The example Swift plugins, built the way an author's own package builds them: through the
// standalone SDK package (../sdk), which applies the export map. `make plugins` runs
// `swift build --package-path Plugins --product TradePlugin` and so on. The C example, Quote, is
// built by the Makefile with cc.
import PackageDescription

/// A Swift normalizer plugin: a dynamic library whose only dependency is the SDK.
func swiftPlugin(_ name: String, folder: String) -> Target {
    .target(name: name, dependencies: [.product(name: "KernelPluginSDK", package: "sdk")], path: folder)
}

let package = Package(
    name: "ExamplePlugins",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TradePlugin", type: .dynamic, targets: ["TradePlugin"]),
        .library(name: "BookPlugin", type: .dynamic, targets: ["BookPlugin"]),
        .library(name: "BarPlugin", type: .dynamic, targets: ["BarPlugin"]),
    ],
    dependencies: [.package(path: "../sdk")],
    targets: [
        swiftPlugin("TradePlugin", folder: "Trade"),
        swiftPlugin("BookPlugin", folder: "Book"),
        swiftPlugin("BarPlugin", folder: "Bar"),
    ],
    swiftLanguageModes: [.v6]
)
