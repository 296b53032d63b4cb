import Foundation

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

/// Runs any program to completion and collects its output.
enum Command {
    static func run(_ program: String, _ args: [String], in directory: String? = nil,
                    environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
        process.arguments = program.hasPrefix("/") ? args : [program] + args
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
