/// Why an event's JSON was refused (docs/protocol.md, "Event envelope"; check 4 of "Ingest checks, in order": all of these go to the DLQ as
/// `bad_event_json`; `reason` is the finer code for logs and the DLQ `detail`).
public struct EnvelopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable rejection reason.
    public enum Reason: String, Sendable, CaseIterable {
        /// Well-formed JSON whose top level is not an object.
        case notObject = "not_object"
        /// `event_id` absent, `null` or `""`.
        case missingEventID = "missing_event_id"
        /// `event_id` not a string, or not UUID text.
        case badEventID = "bad_event_id"
        /// `ts` absent, `null` or `""`.
        case missingTs = "missing_ts"
        /// `ts` not a string (numbers are refused), or not an RFC 3339 timestamp.
        case badTs = "bad_ts"
        /// `subject_id` absent, `null` or `""`.
        case missingSubjectID = "missing_subject_id"
        /// `subject_id` not a string, or not UUID text.
        case badSubjectID = "bad_subject_id"
        /// No `payload` member.
        case missingPayload = "missing_payload"
        /// `payload` present but not a JSON object (`null` included).
        case payloadNotObject = "payload_not_object"
        /// Not well-formed JSON (or nested deeper than 64 levels).
        case malformedJSON = "malformed_json"
        /// A byte that is not part of well-formed UTF-8, anywhere in the event (it would be stored
        /// as U+FFFD).
        case invalidUTF8 = "invalid_utf8"
        /// A `\u0000` escape in any string, member names included (Postgres cannot store U+0000).
        case nulCharacter = "nul_character"
        /// A `\u` escape of a surrogate that is not half of a pair (it would be stored as U+FFFD).
        case loneSurrogate = "lone_surrogate"
        /// More usable `tags` items than `server.max_event_tags`.
        case tooManyTags = "too_many_tags"
        /// A tag key longer than `server.max_tag_key_bytes` (decoded UTF-8 bytes).
        case tagKeyTooLong = "tag_key_too_long"
        /// A tag value longer than `server.max_tag_value_bytes` (decoded UTF-8 bytes).
        case tagValueTooLong = "tag_value_too_long"
    }

    /// Why the event was refused.
    public let reason: Reason
    /// Human text naming the field; quotes at most `EnvelopeError.maxEcho` bytes of the input,
    /// control and non-ASCII bytes shown as `?`, so a hostile event cannot flood or forge log lines.
    public let detail: String

    /// How many input bytes a `detail` may quote.
    public static let maxEcho = 64

    public init(_ reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    /// `"<reason>: <detail>"`.
    public var description: String { "\(reason.rawValue): \(detail)" }

    /// `"…"`-quoted printable-ASCII rendering of `bytes`, cut at `maxEcho` bytes (then `…`).
    static func echo(_ bytes: UnsafeRawBufferPointer) -> String {
        var out = "\""
        for c in bytes.prefix(maxEcho) {
            out.unicodeScalars.append(c >= 0x20 && c < 0x7F ? Unicode.Scalar(c) : "?")
        }
        out += bytes.count > maxEcho ? "\"…" : "\""
        return out
    }
}
