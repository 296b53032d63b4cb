@testable import KernelEvents
import KernelTestSupport

/// A ~450-byte trade event as producers send it.
let sampleEvent = SampleEvents.trade

/// The exact payload text inside `sampleEvent`.
let samplePayload = """
{"symbol":"AAPL","price":187.2500,\
"size":300,"exchange":"XNAS","conditions":["@","F","T"],"bid":187.24,"ask":187.26,"seq":1234567890123,\
"venue_ts":"2024-07-15T14:30:01.120000000Z","odd_lot":false,"notional":-1e-7,"note":null}
"""

/// 2024-07-15T14:30:01Z in Unix seconds (checked with Python's datetime).
let sampleSeconds: Int64 = 1_721_053_801

let nanosPerSecond: Int64 = 1_000_000_000

/// Parses `text` (its UTF-8 bytes) as an envelope.
func parse(_ text: String) -> Result<EventEnvelope, EnvelopeError> {
    parse(Array(text.utf8))
}

func parse(_ bytes: [UInt8]) -> Result<EventEnvelope, EnvelopeError> {
    do throws(EnvelopeError) { return .success(try EventEnvelope.parse(bytes)) } catch { return .failure(error) }
}

/// The envelope of `text`, or nil if refused.
func envelope(_ text: String) -> EventEnvelope? {
    if case .success(let e) = parse(text) { return e }
    return nil
}

/// The error `text` is refused with, or nil if accepted.
func refusal(_ text: String) -> EnvelopeError? {
    if case .failure(let e) = parse(text) { return e }
    return nil
}

/// An envelope with the given member texts (raw JSON) spliced in; nil drops the member.
func event(eventID: String? = #""0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21""#,
           ts: String? = #""2024-07-15T14:30:01.123456789Z""#,
           subjectID: String? = #""3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d""#,
           payload: String? = #"{"price":1.5}"#,
           tags: String? = nil) -> String {
    var members: [String] = []
    if let eventID { members.append(#""event_id":"# + eventID) }
    if let ts { members.append(#""ts":"# + ts) }
    if let subjectID { members.append(#""subject_id":"# + subjectID) }
    if let payload { members.append(#""payload":"# + payload) }
    if let tags { members.append(#""tags":"# + tags) }
    return "{" + members.joined(separator: ",") + "}"
}

/// Unix nanoseconds of an RFC 3339 string the test knows is valid.
func nanos(_ text: String) -> Int64 {
    RFC3339.parseNanos(text) ?? Int64.min
}
