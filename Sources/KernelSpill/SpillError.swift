/// Why spilling (or managing the spill directory) failed. A batch whose `append` threw is NOT
/// spilled: the caller must not acknowledge it.
public enum SpillError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The directory's segments plus this batch would exceed `spill.max_bytes`; nothing was written.
    case budgetExceeded(currentBytes: Int, batchBytes: Int, maxBytes: Int)
    /// One encoded event is larger than a record may be (`SpillSegmentFormat.maxRecordPayload`).
    case recordTooLarge(bytes: Int, maxBytes: Int)
    /// Another process (or another open of the lock file) holds the directory's lock.
    case locked(directory: String)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// Bytes read back did not have the expected shape.
    case format(SpillFormatError)

    /// Stable snake_case reason code.
    public var reasonCode: String {
        switch self {
        case .budgetExceeded: "spill_budget_exceeded"
        case .recordTooLarge: "spill_record_too_large"
        case .locked: "spill_locked"
        case .io: "spill_io_error"
        case .format(let inner): inner.reasonCode
        }
    }

    /// True for `.budgetExceeded`: the batch should be held, not counted as an error.
    public var isBudgetExceeded: Bool {
        if case .budgetExceeded = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .budgetExceeded(current, batch, max):
            "\(reasonCode): spill directory holds \(current) bytes, the batch needs \(batch) more, spill.max_bytes is \(max)"
        case let .recordTooLarge(bytes, max):
            "\(reasonCode): an encoded event of \(bytes) bytes exceeds the record limit of \(max) bytes"
        case let .locked(directory):
            "\(reasonCode): spill directory \(directory) is locked by another process (a running kernel or `kernel spill replay`)"
        case let .io(operation, path, code):
            "\(reasonCode): \(operation) \(path): \(SpillErrno.message(code)) (errno \(code))"
        case let .format(inner):
            inner.description
        }
    }

    /// Lifts a read/format error into the appender's error type (I/O stays I/O).
    init(_ error: SpillFormatError) {
        if case let .io(operation, path, code) = error {
            self = .io(operation: operation, path: path, errno: code)
        } else {
            self = .format(error)
        }
    }
}
