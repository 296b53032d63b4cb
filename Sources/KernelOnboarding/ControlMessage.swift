/// One entry of a control stream (`P+register`, `P+token:exchange`, …) as read by XREADGROUP.
///
/// Field values are kept as raw bytes: producers are untrusted and may send anything, including
/// invalid UTF-8. When a field appears twice, the last value wins (Redis keeps both; a producer
/// cannot use the first to smuggle past a check on the second).
public struct ControlMessage: Sendable {
    /// The Redis entry id (`<ms>-<seq>`).
    public let id: String
    /// Field name → value bytes.
    public let fields: [String: [UInt8]]

    public init(id: String, fields: [String: [UInt8]]) {
        self.id = id
        self.fields = fields
    }

    /// The field decoded as UTF-8 (invalid bytes become U+FFFD); nil if absent.
    public func string(_ name: String) -> String? {
        fields[name].map { String(decoding: $0, as: UTF8.self) }
    }

    /// The field's raw bytes; nil if absent.
    public func bytes(_ name: String) -> [UInt8]? {
        fields[name]
    }

    /// The field decoded as UTF-8 when present and non-empty, else nil (step 1 of docs/onboarding.md, "Registration": an empty
    /// field counts as missing).
    public func nonEmptyString(_ name: String) -> String? {
        guard let value = fields[name], !value.isEmpty else { return nil }
        return String(decoding: value, as: UTF8.self)
    }
}
