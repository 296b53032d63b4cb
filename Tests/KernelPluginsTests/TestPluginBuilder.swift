import Foundation

/// Compiles Tests/Fixtures/c/testplugin.c with `cc -shared` and -D flags into a temporary folder,
/// so each loader test gets a real shared object that breaks exactly one rule.
enum TestPluginBuilder {
    static let repoRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    static let source = repoRoot + "/Tests/Fixtures/c/testplugin.c"
    static let include = repoRoot + "/Sources/KernelPluginABI/include"

    /// A fresh empty directory for one test.
    static func makeTempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-plugins-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Builds the test plugin with `defines` (e.g. ["ABI_MAJOR=2"]) into `dir/name`.
    @discardableResult
    static func build(_ name: String, in dir: String, defines: [String] = []) throws -> String {
        let output = dir + "/" + name
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-std=c11", "-shared", "-fPIC", "-I", include] + defines.map { "-D" + $0 } + ["-o", output, source]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else { throw BuildFailure(message: stderr) }
        return output
    }

    struct BuildFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { "cc failed: \(message)" }
    }
}
