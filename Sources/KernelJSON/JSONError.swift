/// Why a JSON document was rejected, and where.
///
/// `reason.rawValue` is the stable code that goes into logs, metrics and DLQ entries;
/// `offset` is the byte index (into the input) at which the problem was detected.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable rejection reason.
    public enum Reason: String, Sendable {
        /// The input ended inside a value (or was empty).
        case unexpectedEnd = "unexpected_end"
        /// A byte that cannot start or continue the current construct.
        case unexpectedByte = "unexpected_byte"
        /// A number that does not follow the RFC 8259 grammar (leading zero, bare `-`, `1.`, `1e`…).
        case invalidNumber = "invalid_number"
        /// A raw control character (U+0000–U+001F) inside a string.
        case invalidString = "invalid_string"
        /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
        case invalidEscape = "invalid_escape"
        /// Containers nested deeper than the caller's `maxDepth`.
        case tooDeep = "too_deep"
        /// Non-whitespace bytes after the single top-level value.
        case trailingData = "trailing_data"
        /// Input larger than a caller-imposed limit. The parser itself never raises it; callers that
        /// enforce a size cap (e.g. `server.max_message_bytes`) use it so one code covers both.
        case tooLarge = "too_large"
    }

    /// Why the input was rejected.
    public let reason: Reason
    /// Byte offset into the input where the problem was detected.
    public let offset: Int

    /// Creates an error; public so callers enforcing their own limits can report `.tooLarge`.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// `"<reason> at byte <offset>"`, e.g. `"unexpected_end at byte 17"`.
    public var description: String { "\(reason.rawValue) at byte \(offset)" }
}
