/// One `{key, value}` item of an event's `tags` array, escapes decoded, both non-empty.
public struct EnvelopeTag: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
