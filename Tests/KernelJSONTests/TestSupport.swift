@testable import KernelJSON

/// A realistic ~450-byte trade event, as producers publish it.
let sampleTradeEvent = """
{"event_id":"0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21","ts":"2024-07-15T14:30:01.123456789Z",\
"subject_id":"3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d","payload":{"symbol":"AAPL","price":187.2500,\
"size":300,"exchange":"XNAS","conditions":["@","F","T"],"bid":187.24,"ask":187.26,"seq":1234567890123,\
"venue_ts":"2024-07-15T14:30:01.120000000Z","odd_lot":false,"notional":-1e-7,"note":null},\
"tags":[{"key":"core.symbol","value":"AAPL"},{"key":"core.venue","value":"XNAS"},\
{"key":"desk","value":"equities-\\u00e9t\\u00e9"}]}
"""

/// The error `parse` throws for `text`, or nil if it parses.
func parseError(_ text: String, maxDepth: Int = 64) -> JSONError? {
    do throws(JSONError) {
        _ = try JSONParser.parse(text, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

func parseError(bytes: [UInt8], maxDepth: Int = 64) -> JSONError? {
    do throws(JSONError) {
        _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

func validate(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONError? {
    bytes.withUnsafeBytes { JSONScanner.validate($0, maxDepth: maxDepth) }
}

/// `JSONScanner.field` over `bytes`, with the text its range covers.
func field(_ key: String, in bytes: [UInt8]) -> (kind: JSONScanner.Kind, text: String, range: Range<Int>) {
    bytes.withUnsafeBytes { raw in
        let r = JSONScanner.field(key, in: raw)
        return (r.kind, String(decoding: bytes[r.range], as: UTF8.self), r.range)
    }
}

func field(_ key: String, in text: String) -> (kind: JSONScanner.Kind, text: String, range: Range<Int>) {
    field(key, in: Array(text.utf8))
}

func unescape(_ raw: [UInt8]) -> [UInt8]? {
    raw.withUnsafeBytes { JSONScanner.unescape($0) }
}

func obj(_ members: (String, JSONValue)...) -> JSONValue {
    .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
}
