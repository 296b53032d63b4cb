import Foundation
import Logging
import Synchronization

/// What a test's loggers said, kept in memory for its assertions: every record (or those `keep`
/// accepts) with its level, message and metadata (the logger's merged with the event's, values as
/// text). Thread-safe: the kernel logs from its own threads. With DK_TEST_LOG=1 each kept record is
/// also written to stderr as its `text`.
public final class CapturedLogs: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
        /// When it was logged.
        public var date: Date

        /// "level message key=value …", the keys sorted.
        public var text: String {
            ([level.rawValue, message] + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        }
    }

    private let records = Mutex<[Record]>([])
    private let keep: @Sendable (Record) -> Bool
    private let echo = ProcessInfo.processInfo.environment["DK_TEST_LOG"] == "1"

    /// A capture keeping every record `keep` accepts (all of them by default).
    public init(keeping keep: @escaping @Sendable (Record) -> Bool = { _ in true }) {
        self.keep = keep
    }

    /// The records kept so far, oldest first.
    public var all: [Record] { records.withLock { $0 } }

    /// The records kept so far as `text`.
    public var lines: [String] { all.map(\.text) }

    /// A logger recording into this capture, from `level` up.
    public func logger(label: String = "captured", level: Logger.Level = .debug) -> Logger {
        Logger(label: label) { _ in
            RecordingLogHandler(logLevel: level) { level, message, metadata in
                self.record(Record(level: level, message: message, metadata: metadata.mapValues { "\($0)" }, date: Date()))
            }
        }
    }

    private func record(_ record: Record) {
        guard keep(record) else { return }
        records.withLock { $0.append(record) }
        if echo { FileHandle.standardError.write(Data((record.text + "\n").utf8)) }
    }
}
