import Foundation

/// CPU time of any process, and the machine's load, from /proc.
enum ProcStat {
    /// utime + stime of `pid` in clock ticks (all threads), nil if it is gone.
    static func cpuTicks(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)" start at field 3 (state); utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Int(fields[11]), let stime = Int(fields[12]) else { return nil }
        return utime + stime
    }

    static func seconds(ticks: Int) -> Double { Double(ticks) / KernelProcess.clockTicksPerSecond }

    /// The 1-minute load average: the bench shares the machine with whatever else runs.
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.map(String.init) ?? "?"
    }
}
