/// Per-event bounds on the envelope's `tags` (config `server.max_event_tags`,
/// `server.max_tag_key_bytes`, `server.max_tag_value_bytes`; docs/producers.md, "Limits").
/// The byte defaults are a plugin's `add_tag` limits, so a tag is acceptable whichever side adds
/// it; with the count they bound how many rows one event adds to `event_tags` and to the global
/// `tags` dictionary.
public struct EnvelopeLimits: Sendable, Equatable {
    /// Usable tags (objects with a non-empty string key and value) per event.
    public var maxTags: Int
    /// Bytes of a tag key, after decoding escapes.
    public var maxTagKeyBytes: Int
    /// Bytes of a tag value, after decoding escapes.
    public var maxTagValueBytes: Int

    public init(maxTags: Int = 32, maxTagKeyBytes: Int = 256, maxTagValueBytes: Int = 256) {
        self.maxTags = maxTags
        self.maxTagKeyBytes = maxTagKeyBytes
        self.maxTagValueBytes = maxTagValueBytes
    }

    /// The configuration defaults.
    public static let standard = EnvelopeLimits()
}
