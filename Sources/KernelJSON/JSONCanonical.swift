/// Canonical JSON (docs/protocol.md, "Canonical JSON"): the bytes producers and admins sign, byte for byte what Go's
/// `json.Unmarshal` into `interface{}` followed by `json.Marshal` produces.
///
/// - Invalid JSON (including a number that overflows a double, which Go refuses, and nesting deeper
///   than Go's 10 000 levels) → the input, unchanged.
/// - No whitespace; object members sorted by the UTF-8 bytes of their decoded keys, duplicate keys
///   resolved last-wins; arrays in order.
/// - Numbers rounded to IEEE-754 doubles and printed the way Go's `encoding/json` prints a `float64`
///   (see `GoFloatFormat`).
/// - Strings escaped the way Go's encoder does with HTML escaping on (its default): `\" \\ \n \r \t \b \f`,
///   other control characters `\u00xx`, `<` `>` `&` as `\u003c \u003e \u0026`, U+2028/U+2029 escaped;
///   invalid UTF-8 (already repaired by decoding) appears as a literal U+FFFD.
///
/// The implementation never recurses: hostile nesting is as safe as flat input.
public enum JSONCanonical {
    /// Go's `encoding/json` scanner refuses documents nested deeper than this.
    static let goMaxDepth = 10_000

    /// The canonical form of `bytes`, or `bytes` itself when they are not one valid JSON document.
    public static func canonicalize(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return bytes }
        let built: CanonicalTree? = bytes.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            let words = JSONReader<CanonicalTree>.stackWords(maxDepth: goMaxDepth, count: buffer.count)
            return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { stack -> CanonicalTree? in
                var reader = JSONReader(p, end: buffer.count, sink: CanonicalTree())
                do throws(JSONError) {
                    let root = try reader.readDocument(maxDepth: goMaxDepth, stack: stack.baseAddress!)
                    var tree = reader.sink
                    guard !tree.failed else { return nil }
                    tree.root = root
                    return tree
                } catch {
                    return nil
                }
            }
        }
        guard let built else { return bytes }
        return built.serialize()
    }

    /// `canonicalize` over the UTF-8 of `text`, as a String (always valid UTF-8: invalid input bytes
    /// can only come back unchanged from a `[UInt8]` call, and a String holds none).
    public static func canonicalize(_ text: String) -> String {
        String(decoding: canonicalize(Array(text.utf8)), as: UTF8.self)
    }
}
