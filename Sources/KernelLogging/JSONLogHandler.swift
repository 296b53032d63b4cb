import KernelJSON
import KernelRuntime
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes one JSON object per line, `{"ts":<unix ns>,"level":…,"msg":…,"fields":{…}}` (docs/admin.md, "Logs"),
/// through a bounded buffer drained by its own thread, so a slow terminal or disk never blocks
/// the pipeline. When the buffer is full lines are dropped and counted; every 10 s a
/// `logs_dropped` line says how many.
public final class LogSink: Sendable {
    private struct State {
        var lines: [[UInt8]] = []
        var dropped = 0
        var closed = false
    }

    private let capacity: Int
    private let fd: Int32
    private let state = Mutex(State())
    private let wake = Semaphore()
    private let drained = Semaphore()

    /// `output`: "stdout", "stderr" or a file path (appended to).
    public init(output: String, capacity: Int) throws(LogSinkError) {
        self.capacity = max(1, capacity)
        switch output {
        case "stdout": fd = 1
        case "stderr": fd = 2
        default:
            let f = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            guard f >= 0 else { throw LogSinkError(path: output, errno: errno) }
            fd = f
        }
        DedicatedThread.start(name: "dk-log") { [self] in self.run() }
    }

    /// Queues one line (without newline). Never blocks.
    public func write(_ line: [UInt8]) {
        let accepted = state.withLock { s -> Bool in
            guard !s.closed, s.lines.count < capacity else { s.dropped += 1; return false }
            s.lines.append(line)
            return true
        }
        if accepted { wake.signal() }
    }

    /// Writes everything queued, then stops accepting lines.
    public func flushAndClose() {
        state.withLock { $0.closed = true }
        wake.signal()
        drained.wait()
    }

    private func run() {
        var lastDropReport = monotonicSeconds()
        while true {
            wake.wait(timeoutSeconds: 1)
            let (batch, closed) = state.withLock { s -> ([[UInt8]], Bool) in
                let b = s.lines
                s.lines.removeAll(keepingCapacity: true)
                return (b, s.closed)
            }
            var out: [UInt8] = []
            for line in batch { out.append(contentsOf: line); out.append(0x0A) }
            let now = monotonicSeconds()
            if now - lastDropReport >= 10 {
                lastDropReport = now
                let dropped = state.withLock { s -> Int in defer { s.dropped = 0 }; return s.dropped }
                if dropped > 0 {
                    out.append(contentsOf: LogLine.render(level: .warning, message: "logs_dropped",
                                                          fields: ["event": "infra", "count": "\(dropped)"]))
                    out.append(0x0A)
                }
            }
            writeAll(out)
            if closed {
                drained.signal()
                return
            }
        }
    }

    /// A line that cannot be written is dropped: the log has nowhere else to say so.
    private func writeAll(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { FileDescriptorIO.writeAll(fd, $0) }
    }
}

public struct LogSinkError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "logging.output: cannot open \(path): \(String(cString: strerror(errno)))" }
}

/// Renders a log record as the kernel's JSON line.
enum LogLine {
    static func render(level: Logger.Level, message: String, fields: [String: String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + message.utf8.count)
        out.append(contentsOf: #"{"ts":"#.utf8)
        out.append(contentsOf: String(unixNanos()).utf8)
        out.append(contentsOf: #","level":""#.utf8)
        out.append(contentsOf: name(level).utf8)
        out.append(contentsOf: #"","msg":"#.utf8)
        JSONWriter.appendString(message, to: &out)
        out.append(contentsOf: #","fields":{"#.utf8)
        var first = true
        for key in fields.keys.sorted() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.appendString(fields[key]!, to: &out)
        }
        out.append(contentsOf: "}}".utf8)
        return out
    }

    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error, .critical: "error"
        }
    }
}

/// swift-log backend writing through a `LogSink`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let sink: LogSink

    public init(sink: LogSink, level: Logger.Level) {
        self.sink = sink
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        var fields: [String: String] = [:]
        for (k, v) in metadata { fields[k] = Self.flatten(v) }
        if let explicit { for (k, v) in explicit { fields[k] = Self.flatten(v) } }
        sink.write(LogLine.render(level: level, message: message.description, fields: fields))
    }

    static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): "[" + a.map(flatten).joined(separator: ",") + "]"
        case .dictionary(let d): "{" + d.keys.sorted().map { "\($0)=\(flatten(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}
