import Logging

/// A log handler that hands every event, the logger's metadata merged into the event's, to
/// `record`: how tests keep what the kernel logged, each in the form its assertions read.
public struct RecordingLogHandler: LogHandler {
    public typealias Record = @Sendable (_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) -> Void

    let record: Record
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level

    public init(logLevel: Logger.Level = .debug, _ record: @escaping Record) {
        self.logLevel = logLevel
        self.record = record
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        record(event.level, "\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 })
    }
}
