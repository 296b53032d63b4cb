/// Why spill bytes could not be read or decoded. Each case has a stable `reasonCode` used alike in
/// logs, metrics and `kernel spill status` output.
public enum SpillFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed (`operation` is the call, e.g. `open`, `pread`; `errno` its errno).
    case io(operation: String, path: String, errno: Int32)
    /// The segment's file header is short, has the wrong magic, an unknown version or a bad CRC.
    case badHeader(String)
    /// A record's CRC32C does not match its bytes.
    case badChecksum(String)
    /// The bytes end in the middle of a record (the normal trace of a crash mid-append).
    case tornTail(String)
    /// A record's payload is not a valid event encoding (bad version, length, tag, UTF-8…).
    case badRecord(String)

    /// Stable snake_case reason code.
    public var reasonCode: String {
        switch self {
        case .io: "spill_io_error"
        case .badHeader: "spill_bad_header"
        case .badChecksum: "spill_bad_checksum"
        case .tornTail: "spill_torn_tail"
        case .badRecord: "spill_bad_record"
        }
    }

    public var description: String {
        switch self {
        case let .io(operation, path, code): "\(reasonCode): \(operation) \(path): \(SpillErrno.message(code)) (errno \(code))"
        case let .badHeader(detail), let .badChecksum(detail), let .tornTail(detail), let .badRecord(detail):
            "\(reasonCode): \(detail)"
        }
    }
}
