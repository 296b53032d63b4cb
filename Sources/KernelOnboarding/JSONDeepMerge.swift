import KernelJSON

/// The deep merge of docs/onboarding.md, "Subjects" (`upgrade`: new schema body = deep-merge(current, delta); subject
/// attrs = deep-merge(attrs, attrs_delta)).
///
/// - Both sides objects: merged key by key; a key present on both sides whose values are both
///   objects is merged recursively, any other delta value (array, scalar, `null`) replaces the base
///   value; keys only in the delta are appended in delta order.
/// - Otherwise the delta replaces the base (an array is never merged element-wise, and `null`
///   sets the member to `null`: it does not delete it).
///
/// Duplicate keys follow the rest of the kernel (and Postgres `jsonb`): the last occurrence wins,
/// so the result never holds duplicates and serializes to the same `jsonb` value it means.
/// Keys compare by UTF-8 bytes. Pure; recursion is bounded by `maxDepth`.
public enum JSONDeepMerge {
    /// Deepest object nesting merged; the parser's default limit is 64, so parsed input never hits it.
    public static let defaultMaxDepth = 128

    /// Why a merge was refused.
    public enum Failure: Error, Sendable, Equatable {
        /// Objects nested deeper than the limit on both sides (hand-built or hostile values).
        case tooDeep

        /// Stable reason code for logs and responses.
        public var reasonCode: String { "merge_too_deep" }
    }

    /// `base` with `delta` deep-merged into it (rules above).
    public static func merge(_ base: JSONValue, _ delta: JSONValue, maxDepth: Int = defaultMaxDepth) throws(Failure) -> JSONValue {
        try merge(base, delta, depth: 0, maxDepth: maxDepth)
    }

    private static func merge(_ base: JSONValue, _ delta: JSONValue, depth: Int, maxDepth: Int) throws(Failure) -> JSONValue {
        guard case .object(let b) = base, case .object(let d) = delta else { return delta }
        guard depth < maxDepth else { throw .tooDeep }
        var result = deduplicated(b)
        var index: [Key: Int] = [:]
        index.reserveCapacity(result.count)
        for (i, member) in result.enumerated() { index[Key(member.key)] = i }
        for member in deduplicated(d) {
            let key = Key(member.key)
            if let i = index[key] {
                result[i].value = try merge(result[i].value, member.value, depth: depth + 1, maxDepth: maxDepth)
            } else {
                index[key] = result.count
                result.append(member)
            }
        }
        return .object(JSONObject(result))
    }

    /// The members of `object` with duplicate keys collapsed: the first occurrence keeps its
    /// position, the last occurrence gives the value (Go and `jsonb` semantics).
    static func deduplicated(_ object: JSONObject) -> [(key: String, value: JSONValue)] {
        var result: [(key: String, value: JSONValue)] = []
        result.reserveCapacity(object.members.count)
        var index: [Key: Int] = [:]
        for member in object.members {
            let key = Key(member.key)
            if let i = index[key] {
                result[i].value = member.value
            } else {
                index[key] = result.count
                result.append(member)
            }
        }
        return result
    }

    /// A dictionary key that compares strings by their UTF-8 bytes (as JSON keys do everywhere
    /// else in the kernel), not by Swift's canonical equivalence.
    struct Key: Hashable {
        let bytes: [UInt8]
        init(_ key: String) { bytes = Array(key.utf8) }
    }
}
