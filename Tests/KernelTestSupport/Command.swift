import Foundation

/// Runs a program to completion and collects its output: the one place the test suites start a
/// tool (a compiler, `ssh-keygen`, `make`, the built `kernel`) and read what it printed.
public enum Command {
    /// Exit status and the merged stdout and stderr of `program args…`, run in `directory`. A
    /// `program` without a leading `/` is looked up on PATH (through `/usr/bin/env`).
    public static func run(_ program: String, _ args: [String], in directory: String? = nil,
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
