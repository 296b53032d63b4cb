#if canImport(Glibc)
import Glibc
#endif

/// A JSON object: its members in input order, duplicates kept.
///
/// Lookup follows Go's `encoding/json` (last occurrence of a key wins), and keys compare by their
/// UTF-8 bytes, not by Swift's canonical-equivalence `==`, so `"é"` and `"e\u0301"` are different keys,
/// exactly as they are for the producers and for Postgres.
public struct JSONObject: Sendable, Equatable {
    /// Members in stored order (input order for parsed objects), duplicates included.
    public var members: [(key: String, value: JSONValue)]

    /// Creates an object with the given members, in that order.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value of the last member named `key`, or nil.
    public subscript(key: String) -> JSONValue? {
        var i = members.count
        while i > 0 {
            i -= 1
            if sameBytes(members[i].key, key) { return members[i].value }
        }
        return nil
    }

    /// Member keys in stored order, duplicates included.
    public var keys: [String] { members.map(\.key) }

    /// Equal when both hold the same members (byte-equal keys, equal values) in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (l, r) in zip(lhs.members, rhs.members) {
            guard sameBytes(l.key, r.key), l.value == r.value else { return false }
        }
        return true
    }
}

/// Byte equality of two strings. JSON keys and strings are byte sequences to every other system the
/// kernel talks to; Swift's `==` would also equate canonically-equivalent spellings.
/// (Compares contiguous bytes: `utf8.elementsEqual` walked the views byte by byte and was the
/// top self-time symbol of payload lookups.)
@inline(__always)
func sameBytes(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
    }
}
