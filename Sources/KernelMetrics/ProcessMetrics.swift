#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` families (the names and meanings of the Prometheus client
/// libraries' process collector, so stock dashboards and alerts work), read from /proc at each
/// scrape. They are rendered as text beside the registry rather than kept in it: they are
/// snapshots of counters the operating system keeps, not values the kernel's code pushes.
public enum ProcessMetrics {
    /// Every family, sorted by name (the order they are rendered in).
    public static let families: [MetricFamilyInfo] = [
        .init("process_cpu_seconds_total", .counter, "Total user and system CPU time spent in seconds."),
        .init("process_max_fds", .gauge, "Maximum number of open file descriptors."),
        .init("process_open_fds", .gauge, "Number of open file descriptors."),
        .init("process_resident_memory_bytes", .gauge, "Resident memory size in bytes."),
        .init("process_start_time_seconds", .gauge, "Start time of the process since unix epoch in seconds."),
        .init("process_virtual_memory_bytes", .gauge, "Virtual memory size in bytes."),
    ]

    /// The families in Prometheus text; a value that cannot be read (no /proc) is left out,
    /// its `# HELP`/`# TYPE` lines kept.
    static func render() -> String {
        let sample = ProcessSample.read()
        let values: [String: Double?] = [
            "process_cpu_seconds_total": sample?.cpuSeconds,
            "process_max_fds": maxOpenFiles(),
            "process_open_fds": openFiles(),
            "process_resident_memory_bytes": sample?.residentBytes,
            "process_start_time_seconds": sample?.startTimeSeconds,
            "process_virtual_memory_bytes": sample?.virtualBytes,
        ]
        var out = ""
        for family in families {
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            if let value = values[family.name] ?? nil { out += "\(family.name) \(value)\n" }
        }
        return out
    }

    /// Entries of /proc/self/fd, less the descriptor that lists them.
    static func openFiles() -> Double? {
        guard let dir = opendir("/proc/self/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { $0.first == UInt8(ascii: ".") }
            if !isDot { count += 1 }
        }
        return Double(max(count - 1, 0))
    }

    /// The soft limit on open files (what an `open` would run into).
    static func maxOpenFiles() -> Double? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        // RLIM_INFINITY (all ones) is not imported: its C definition overflows the unsigned type.
        return limit.rlim_cur == rlim_t.max ? nil : Double(limit.rlim_cur)
    }
}

/// One reading of /proc/self/stat, with the clock tick, page size and boot time that turn its
/// fields into seconds and bytes.
struct ProcessSample {
    var cpuSeconds: Double
    var startTimeSeconds: Double
    var virtualBytes: Double
    var residentBytes: Double

    static func read() -> ProcessSample? {
        guard let stat = procText("/proc/self/stat"), let bootTime = bootTimeSeconds() else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        guard ticks > 0, pageSize > 0 else { return nil }
        return parse(stat: stat, ticksPerSecond: ticks, pageSize: pageSize, bootTime: bootTime)
    }

    /// Fields of proc(5) `stat` after the command name (which may itself hold spaces and
    /// parentheses, hence the last ")"): utime 14, stime 15, starttime 22, vsize 23, rss 24.
    static func parse(stat: String, ticksPerSecond: Double, pageSize: Double, bootTime: Double) -> ProcessSample? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state).
        func field(_ number: Int) -> Double? { number - 3 < fields.count ? Double(fields[number - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24) else {
            return nil
        }
        return ProcessSample(cpuSeconds: (utime + stime) / ticksPerSecond, startTimeSeconds: bootTime + start / ticksPerSecond,
                             virtualBytes: vsize, residentBytes: rss * pageSize)
    }

    /// `btime` of /proc/stat: when the machine booted, in Unix seconds.
    static func bootTimeSeconds() -> Double? {
        guard let text = procText("/proc/stat") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingPrefix(" "))
        }
        return nil
    }

    /// A whole /proc file (their size is 0 to `stat`, so read until EOF).
    static func procText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
