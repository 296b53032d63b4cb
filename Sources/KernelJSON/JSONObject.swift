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
@inline(__always)
func sameBytes(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
}
