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

    /// The children of `pid`, from every thread's `children` list (the thread that forked one
    /// lists it).
    static func childPIDs(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task -> [Int32] in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    static func seconds(ticks: Int) -> Double { Double(ticks) / KernelProcess.clockTicksPerSecond }

    /// The whole machine's CPU time from the first line of /proc/stat, in clock ticks summed
    /// over every core: `busy` is everything but idle and iowait, `total` includes them.
    struct MachineTicks {
        var busy: Int
        var total: Int

        /// Busy share of all cores between two samples (0…1).
        static func busyFraction(from a: MachineTicks, to b: MachineTicks) -> Double {
            let total = b.total - a.total
            return total > 0 ? Double(b.busy - a.busy) / Double(total) : 0
        }
    }

    static func machineTicks() -> MachineTicks? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already inside user).
        let values = line.split(separator: " ").dropFirst().prefix(8).compactMap { Int($0) }
        guard values.count == 8 else { return nil }
        let total = values.reduce(0, +)
        return MachineTicks(busy: total - values[3] - values[4], total: total)
    }

    /// The 1-minute load average: the bench shares the machine with whatever else runs.
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.map(String.init) ?? "?"
    }
}
