/// Strict RFC 8259 parsing into a `JSONValue` tree.
///
/// No NaN/Infinity, no leading zeros, no trailing commas, no comments; raw control characters in
/// strings are errors. Numbers keep their source text. Invalid UTF-8 and lone surrogates decode to
/// U+FFFD (one per offending byte / escape, as Go's `encoding/json` does) rather than failing.
public enum JSONParser {
    /// Parses exactly one JSON value (whitespace around allowed).
    /// - Parameter maxDepth: how many containers may nest; deeper input fails with `.tooDeep`
    ///   The parser itself is iterative, but destroying, comparing and serializing the resulting tree
    ///   recurse once per level, so keep the limit modest (the default is plenty for events).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        guard let base = bytes.baseAddress, bytes.count > 0 else { throw JSONError(.unexpectedEnd, at: 0) }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let words = JSONReader<TreeBuilder>.stackWords(maxDepth: maxDepth, count: bytes.count)
        let result = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { stack -> Result<JSONValue, JSONError> in
            var reader = JSONReader(p, end: bytes.count, sink: TreeBuilder())
            do throws(JSONError) {
                return .success(try reader.readDocument(maxDepth: maxDepth, stack: stack.baseAddress!))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses exactly one JSON value from `bytes`.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw -> Result<JSONValue, JSONError> in
            do throws(JSONError) { return .success(try parse(raw, maxDepth: maxDepth)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses exactly one JSON value from the UTF-8 of `text`.
    public static func parse(_ text: String, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buf -> Result<JSONValue, JSONError> in
            do throws(JSONError) {
                return .success(try parse(UnsafeRawBufferPointer(buf), maxDepth: maxDepth))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
