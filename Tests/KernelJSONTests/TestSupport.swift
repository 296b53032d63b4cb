@testable import KernelJSON
import KernelTestSupport

/// A realistic ~450-byte trade event, as producers publish it.
let sampleTradeEvent = SampleEvents.trade

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
