import Foundation
import KernelJSON

#if canImport(Glibc)
import Glibc
#endif

/// A `kernel run` child process, and what /proc says about it.
final class KernelProcess {
    let process: Process
    let logPath: String
    /// Families a plugin must serve once the kernel is ready (the run measures their plugins).
    let requiredFamilies: [String]
    let pluginsDir: String
    var pid: Int32 { process.processIdentifier }

    private init(process: Process, logPath: String, requiredFamilies: [String], pluginsDir: String) {
        self.process = process
        self.logPath = logPath
        self.requiredFamilies = requiredFamilies
        self.pluginsDir = pluginsDir
    }

    static func start(binary: String, arguments: [String], environment: [String: String], logPath: String,
                      requiredFamilies: [String], pluginsDir: String) throws -> KernelProcess {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return KernelProcess(process: p, logPath: logPath, requiredFamilies: requiredFamilies, pluginsDir: pluginsDir)
    }

    /// Waits for the "kernel ready" log line; returns the monotonic time it was seen.
    func waitReady(timeout: Double = 120) throws -> Double {
        let deadline = BenchClock.now() + timeout
        while BenchClock.now() < deadline {
            if let ready = readyLine() {
                try checkServed(readyLine: ready)
                return BenchClock.now()
            }
            guard process.isRunning else {
                throw BenchError("kernel exited with status \(process.terminationStatus) before it was ready; log:\n\(logTail())")
            }
            BenchClock.sleep(seconds: 0.002)
        }
        throw BenchError("kernel not ready after \(Int(timeout)) s; log:\n\(logTail())")
    }

    private func readyLine() -> String? {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.contains("\"kernel ready\"") }.map(String.init)
    }

    /// Throws unless the kernel logged it was ready with a plugin for every required family (for
    /// runs that do not wait for the ready line before they measure).
    func verifyPlugins() throws {
        guard let ready = readyLine() else { throw BenchError("the kernel never logged it was ready; log:\n\(logTail())") }
        try checkServed(readyLine: ready)
    }

    /// A trade drain run against a plugins directory without the trade plugin stored every event
    /// as a generic one and printed its numbers as the trade scenario's; refuse it instead.
    private func checkServed(readyLine: String) throws {
        let served = KernelProcess.servedFamilies(readyLine: readyLine)
        let missing = requiredFamilies.filter { !served.contains($0) }
        guard !missing.isEmpty else { return }
        stop()
        throw BenchError("no plugin serves \(missing.joined(separator: ", ")) in --plugins \(pluginsDir) "
                         + "(the kernel serves: \(served.isEmpty ? "none" : served.sorted().joined(separator: ", "))); "
                         + "`make plugins` writes them to ./plugins")
    }

    /// The family names in the ready line's `fields.families` (`trade@trade-1.0.0,quote@…`).
    static func servedFamilies(readyLine: String) -> Set<String> {
        guard let value = (try? JSONParser.parse(readyLine))?["fields"]?["families"]?.stringValue else { return [] }
        return Set(value.split(separator: ",").map { String($0.prefix { $0 != "@" }) })
    }

    /// SIGTERM (graceful drain), then SIGKILL after `timeout` seconds.
    func stop(timeout: Double = 60) {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = BenchClock.now() + timeout
        while process.isRunning && BenchClock.now() < deadline { BenchClock.sleep(seconds: 0.01) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log)"
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Log lines at level error or critical (a clean benchmark run has none).
    func errorLines() -> [String] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).filter {
            $0.contains("\"level\":\"error\"") || $0.contains("\"level\":\"critical\"")
        }
    }

    // MARK: /proc

    /// VmRSS and VmHWM in kB.
    func memory() -> (rssKB: Int, hwmKB: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var rss = 0, hwm = 0
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = Self.kB(line) }
            if line.hasPrefix("VmHWM:") { hwm = Self.kB(line) }
        }
        return (rss, hwm)
    }

    private static func kB(_ line: Substring) -> Int {
        Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    /// utime + stime in clock ticks, every thread included.
    func cpuTicks() -> Int? { ProcStat.cpuTicks(pid: pid) }

    /// As `cpuTicks`, plus the live children's (the plugin-host processes of
    /// `plugins.isolation: process`, which the kernel starts on its first batch: none before).
    func cpuTicksWithChildren() -> Int? {
        guard let own = cpuTicks() else { return nil }
        return own + ProcStat.childPIDs(of: pid).compactMap(ProcStat.cpuTicks(pid:)).reduce(0, +)
    }

    static let clockTicksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
}
