import Foundation
import KernelTestSupport

/// Runs the built `kernel` binary (DK_KERNEL_BIN, else .build/debug/kernel) as a real process.
enum KernelBinary {
    static let path = ProcessInfo.processInfo.environment["DK_KERNEL_BIN"] ?? TestPluginBuilder.repoRoot + "/.build/debug/kernel"

    struct Missing: Error, CustomStringConvertible {
        var description: String { "\(KernelBinary.path) is missing: run `swift build --product kernel` (or set DK_KERNEL_BIN)" }
    }

    /// Exit status and the merged stdout and stderr of `kernel args…`, run in `directory`.
    static func run(_ args: [String], in directory: String? = nil, environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: path) else { throw Missing() }
        return try Command.run(path, args, in: directory, environment: environment)
    }
}
