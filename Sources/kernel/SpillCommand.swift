import ArgumentParser
import KernelConfig
import KernelRedis
import KernelCore
import KernelJSON
import KernelSpill
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `kernel spill …`: what the filesystem spill holds, and replaying it by hand.
struct SpillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spill",
        abstract: "Inspect and replay the filesystem spill (written only while Postgres is unreachable).",
        subcommands: [Status.self, Replay.self, Salvage.self]
    )

    /// `kernel spill status`: segments, bytes, oldest entry and per-segment health. Read-only:
    /// it runs beside a live kernel.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List spill segments with their size, age and health.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            let config = try loadConfigOrExit(options.config)
            let directory: SpillDirectory
            let segments: [SpillSegmentInfo]
            do {
                directory = try SpillDirectory(path: config.spill.dir)
                segments = try directory.segments()
            } catch {
                printError("kernel spill status: spill.dir \(config.spill.dir): \(error)")
                throw ExitCode(1)
            }
            var rows: [[String]] = []
            var objects: [JSONValue] = []
            var totalBytes = 0, totalRecords = 0, damaged = 0
            var oldest: Int64?
            for segment in segments {
                let scan: SpillSegmentScan
                do { scan = try SpillSegmentScan(path: segment.path) } catch {
                    rows.append([segment.fileName, "\(segment.bytes)", "-", "-", "unreadable: \(error)"])
                    objects.append(.object(JSONObject([("file", .string(segment.fileName)), ("bytes", .number(String(segment.bytes))),
                                                       ("health", .string("unreadable: \(error)"))])))
                    damaged += 1
                    continue
                }
                totalBytes += segment.bytes
                totalRecords += scan.records
                if let t = scan.oldestMicros { oldest = min(oldest ?? t, t) }
                let health = scan.damage.isEmpty ? "ok"
                    : scan.damage.map { "\($0.kind) at \($0.offset)" }.joined(separator: ", ")
                if !scan.damage.isEmpty { damaged += 1 }
                rows.append([segment.fileName, "\(segment.bytes)", "\(scan.records)",
                             scan.oldestMicros.map(formatMicros) ?? "-", health])
                objects.append(.object(JSONObject([
                    ("file", .string(segment.fileName)), ("bytes", .number(String(segment.bytes))),
                    ("records", .number(String(scan.records))),
                    ("oldest_event", scan.oldestMicros.map { .string(formatMicros($0)) } ?? .null),
                    ("damage", .array(scan.damage.map { .object(JSONObject([
                        ("kind", .string("\($0.kind)")), ("offset", .number(String($0.offset))),
                        ("detail", .string($0.description)),
                    ])) })),
                ])))
            }
            if json {
                print(JSONWriter.serialize(.object(JSONObject([
                    ("dir", .string(config.spill.dir)), ("segments", .array(objects)),
                    ("bytes", .number(String(totalBytes))), ("records", .number(String(totalRecords))),
                    ("max_bytes", .number(String(config.spill.maxBytes))),
                ]))))
                return
            }
            print("spill dir: \(config.spill.dir)")
            print("segments: \(segments.count), bytes: \(totalBytes) of \(config.spill.maxBytes) allowed, records: \(totalRecords)"
                  + (oldest.map { ", oldest event: \(formatMicros($0))" } ?? "") + (damaged > 0 ? ", damaged segments: \(damaged)" : ""))
            if !rows.isEmpty { printTable(header: ["FILE", "BYTES", "RECORDS", "OLDEST EVENT", "HEALTH"], rows: rows) }
            if let kept = try? directory.damagedSegments(), !kept.isEmpty {
                print("damaged files kept: \(kept.count) (`kernel spill salvage` replays their good records)")
            }
        }
    }

    /// `kernel spill replay`: replays every segment into Postgres now, with a progress bar on a
    /// terminal. Refuses to run while a kernel holds the spill directory (the kernel replays by
    /// itself).
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay spill segments into Postgres now (when no kernel is running on this spill directory).")
        @OptionGroup var options: ConfigOption

        func run() throws {
            let config = try loadConfigOrExit(options.config)
            let logger = quietLogger()
            guard let spill = try openLocked(config, command: "replay", ifNone: "spill is empty: nothing to replay",
                                             list: { try $0.segments() }) else { return }
            defer { withExtendedLifetime(spill.lock) {} }
            let segments = spill.files
            let replayers = (0..<max(1, config.postgres.writeConnections)).map { _ in
                makeReplayer(config, directory: spill.directory, logger: logger)
            }
            let bar = ProgressBar(total: spill.bytes, enabled: isatty(STDOUT_FILENO) == 1)
            let outcome = ParallelSpillReplay.run(segments, replayers: replayers) { bar.update($0) }
            for replayer in replayers { replayer.close() }
            bar.finish()
            print("replayed \(outcome.segments) of \(segments.count) segments: \(outcome.events) events "
                  + "(\(outcome.inserted) stored, \(outcome.duplicates) already stored, \(outcome.deadLettered) dead-lettered as persist_failed)"
                  + (outcome.damaged > 0 ? ", \(outcome.damaged) damaged records (segments kept as *.damaged; `kernel spill salvage` replays their good records)" : ""))
            if !outcome.complete {
                printError("kernel spill replay: stopped early: Postgres (or Redis, for dead letters) is unreachable; run it again later")
                throw ExitCode(1)
            }
        }
    }

    /// `kernel spill salvage`: replays the good records of the quarantined `.damaged` files,
    /// skipping events already stored, and leaves the files in place (running it twice stores
    /// nothing twice). Refuses to run while a kernel holds the spill directory, like `replay`.
    struct Salvage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay the good records of damaged spill files (*.damaged) into Postgres, skipping events already stored.")
        @OptionGroup var options: ConfigOption

        func run() throws {
            let config = try loadConfigOrExit(options.config)
            let logger = quietLogger()
            guard let spill = try openLocked(config, command: "salvage", ifNone: "no damaged spill files: nothing to salvage",
                                             list: { try $0.damagedSegments() }) else { return }
            defer { withExtendedLifetime(spill.lock) {} }
            let files = spill.files
            let replayer = makeReplayer(config, directory: spill.directory, logger: logger)
            defer { replayer.close() }
            // Progress goes to stderr, so stdout carries only the summary: a bar on a terminal,
            // otherwise one line per file.
            let terminal = isatty(STDERR_FILENO) == 1
            let bar = ProgressBar(total: spill.bytes, enabled: terminal, fd: STDERR_FILENO)
            var outcome = SpillReplayer.Outcome()
            var done: Int64 = 0
            for (index, file) in files.enumerated() {
                if !terminal { writeFD(STDERR_FILENO, "salvaging \(file.fileName) (\(index + 1) of \(files.count), \(file.bytes) bytes)\n") }
                let base = done
                let one = replayer.salvage([file]) { bar.update(base + $0) }
                outcome.segments += one.segments
                outcome.events += one.events
                outcome.inserted += one.inserted
                outcome.duplicates += one.duplicates
                outcome.deadLettered += one.deadLettered
                outcome.unreadableBytes += one.unreadableBytes
                done += Int64(file.bytes)
                if !one.complete {
                    outcome.complete = false
                    break
                }
            }
            bar.finish()
            print("salvaged \(outcome.inserted) records from \(outcome.segments) of \(files.count) damaged files "
                  + "(\(outcome.duplicates) skipped as already stored, \(outcome.deadLettered) dead-lettered as persist_failed); "
                  + "unreadable bytes: \(outcome.unreadableBytes)")
            print("the .damaged files are kept; delete them once inspected")
            if !outcome.complete {
                printError("kernel spill salvage: stopped early: Postgres (or Redis, for dead letters) is unreachable; run it again later")
                throw ExitCode(1)
            }
        }
    }
}

/// A one-line progress bar, redrawn in place (only on a terminal). Updated from the replay
/// worker threads, hence the lock.
final class ProgressBar: Sendable {
    let total: Int64
    let enabled: Bool
    let fd: Int32
    private let lastPercent = Mutex(-1)

    init(total: Int64, enabled: Bool, fd: Int32 = STDOUT_FILENO) {
        self.total = max(1, total)
        self.enabled = enabled
        self.fd = fd
    }

    func update(_ done: Int64) {
        guard enabled else { return }
        let percent = Int(min(100, done * 100 / total))
        let changed = lastPercent.withLock { last in
            guard percent > last else { return false }
            last = percent
            return true
        }
        guard changed else { return }
        let width = 40
        let filled = width * percent / 100
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            + "] \(percent)%  \(done / 1_048_576) / \(total / 1_048_576) MiB"
        writeFD(fd, line)
    }

    func finish() {
        guard enabled else { return }
        writeFD(fd, "\n")
    }
}

/// Unix microseconds as RFC 3339 UTC (seconds precision is enough for a status table).
func formatMicros(_ micros: Int64) -> String {
    var t = time_t(micros / 1_000_000)
    var parts = tm()
    gmtime_r(&t, &parts)
    func pad(_ v: Int32, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
}

/// Prints rows under a header, columns padded to their widest cell.
func printTable(header: [String], rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
            .joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// Unbuffered write to standard output (the progress bar redraws in place).
func writeStdout(_ text: String) { writeFD(STDOUT_FILENO, text) }

/// Unbuffered write to a descriptor (progress on stdout or stderr).
func writeFD(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}

/// The spill directory under its lock (held while `lock` lives) and the files a command works on.
private struct LockedSpill {
    let directory: SpillDirectory
    let lock: SpillDirectoryLock
    let files: [SpillSegmentInfo]
    var bytes: Int64 { files.reduce(Int64(0)) { $0 + Int64($1.bytes) } }
}

/// Opens and locks `spill.dir` (refused while a kernel holds it) and lists the files `command`
/// works on; exits 1 with the reason otherwise, and returns `nil`, having printed `ifNone`, when
/// there are none.
private func openLocked(_ config: KernelConfig, command: String, ifNone: String,
                        list: (SpillDirectory) throws -> [SpillSegmentInfo]) throws -> LockedSpill? {
    let spill: LockedSpill
    do {
        let directory = try SpillDirectory(path: config.spill.dir)
        let lock = try directory.lock()
        spill = LockedSpill(directory: directory, lock: lock, files: try list(directory))
    } catch {
        printError("kernel spill \(command): \(error)")
        throw ExitCode(1)
    }
    guard !spill.files.isEmpty else {
        print(ifNone)
        return nil
    }
    return spill
}

/// A replayer writing with the kernel's settings; dead letters go to the configured DLQ.
private func makeReplayer(_ config: KernelConfig, directory: SpillDirectory, logger: Logger) -> SpillReplayer {
    let replayer = SpillReplayer(directory: directory, dsn: config.postgres.connectionDSN(), batchSize: config.spill.replayBatchSize,
                                 deadLetters: DeadLetterWriter(dlqStream: config.redis.dlqStreamKey, settings: config.redisSettings),
                                 metrics: nil, logger: logger)
    replayer.tagBudgetPerProducer = config.server.maxTagsPerProducer
    return replayer
}
