import Foundation
import KernelEvents
import KernelJSON

/// Builds the event JSON (docs/protocol.md, "Event envelope"): `{event_id, ts, subject_id, payload, tags}`.
enum EventEnvelopeBuilder {
    static func envelope(subjectID: String, payload: JSONValue, nanos: Int64, tags: [(String, String)]) -> String {
        JSONWriter.serialize(.object(JSONObject([
            ("event_id", .string(uuidV7(milliseconds: nanos / 1_000_000).description)),
            ("ts", .string(RFC3339.format(nanos: nanos))),
            ("subject_id", .string(subjectID)),
            ("payload", payload),
            ("tags", .array(tags.map { .object(JSONObject([("key", .string($0.0)), ("value", .string($0.1))])) })),
        ])))
    }

    /// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by time.
    static func uuidV7(milliseconds: Int64) -> EventUUID {
        var generator = SystemRandomNumberGenerator()
        let randA = UInt64.random(in: 0..<(1 << 12), using: &generator)
        let randB = UInt64.random(in: 0..<(1 << 62), using: &generator)
        let high = (UInt64(milliseconds) & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | randA
        return EventUUID(high: high, low: 0x8000_0000_0000_0000 | randB)
    }

    /// Now, as Unix nanoseconds (UTC).
    static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
