import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `kernel run` child process, and what /proc says about it.
final class KernelProcess {
    let process: Process
    let logPath: String
    var pid: Int32 { process.processIdentifier }

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
    }

    static func start(binary: String, arguments: [String], environment: [String: String], logPath: String) throws -> KernelProcess {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return KernelProcess(process: p, logPath: logPath)
    }

    /// Waits for the "kernel ready" log line; returns the monotonic time it was seen.
    func waitReady(timeout: Double = 120) throws -> Double {
        let deadline = BenchClock.now() + timeout
        while BenchClock.now() < deadline {
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8), text.contains("\"kernel ready\"") {
                return BenchClock.now()
            }
            guard process.isRunning else {
                throw BenchError("kernel exited with status \(process.terminationStatus) before it was ready; log:\n\(logTail())")
            }
            BenchClock.sleep(seconds: 0.002)
        }
        throw BenchError("kernel not ready after \(Int(timeout)) s; log:\n\(logTail())")
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
