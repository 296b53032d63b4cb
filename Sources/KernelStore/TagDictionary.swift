import KernelEvents
import KernelSchema
import KernelPostgres

/// The writer's view of the `tags` dictionary: tag ids cached in memory, misses upserted in one
/// round trip per batch.
///
/// Postgres compares tags case-insensitively (citext). The cache key folds ASCII letters only:
/// that never merges two tags the database tells apart, and a non-ASCII case variant merely
/// costs one more lookup, whose answer the database gives.
struct TagDictionary {
    struct Key: Hashable {
        var key: String
        var value: String

        init(_ tag: Tag) {
            key = Key.fold(tag.key)
            value = Key.fold(tag.value)
        }

        /// ASCII lower-casing; returns the string itself when there is nothing to fold.
        /// (Written in place: up to 15 bytes the result is a small string, with no allocation;
        /// symbols like "AAPL" are folded on every lookup.)
        static func fold(_ text: String) -> String {
            guard text.utf8.contains(where: { $0 &- 0x41 < 26 }) else { return text }
            let count = text.utf8.count
            return String(unsafeUninitializedCapacity: count) { out in
                var i = 0
                for b in text.utf8 {
                    out[i] = b &- 0x41 < 26 ? b | 0x20 : b
                    i += 1
                }
                return count
            }
        }
    }

    /// Cache bound: past it the cache starts over (a workload with unbounded tag values must not
    /// grow the kernel without limit; the dictionary itself answers the misses).
    let capacity: Int
    private var ids: [Key: Int64] = [:]

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    var cachedCount: Int { ids.count }

    func cached(_ tag: Tag) -> Int64? { ids[Key(tag)] }

    /// Starts the cache over when it is full. Called before a batch looks anything up, so ids
    /// found in the cache stay there until the batch is encoded.
    mutating func trimIfFull() {
        if ids.count >= capacity { ids.removeAll(keepingCapacity: true) }
    }

    /// Why a tag got no id: its event is refused.
    struct Refusal: Equatable {
        var detail: String
        /// The event's producer has added its `budget` of tags to the dictionary already
        /// (`tag_budget_exceeded`); otherwise the database refused the tag (`persist_failed`).
        var overBudget = false
    }

    /// Resolves `tags` (cache misses; `producers[i]` sent `tags[i]`) to ids, inserting the new
    /// ones. Runs in autocommit mode: a dictionary entry is harmless if the batch later fails.
    ///
    /// Each new entry records the producer that added it, and a producer may add at most
    /// `budget` entries (`server.max_tags_per_producer`): one producer cannot grow the global
    /// dictionary without bound. The count is read from the dictionary when a producer adds
    /// tags, so kernels writing at once can overshoot it by at most one batch's new tags each.
    ///
    /// Returns the tags that got no id, with why; their events are rejected. Connectivity and
    /// other errors are thrown.
    mutating func resolve(_ tags: [Tag], producers: [EventUUID], budget: Int,
                          on connection: PGConnection) throws(PGError) -> [Key: Refusal] {
        var refused: [Key: Refusal] = [:]
        var pending: [Tag] = []
        var pendingBy: [EventUUID] = []
        var seen: Set<Key> = []
        for (tag, producer) in zip(tags, producers) {
            let key = Key(tag)
            guard ids[key] == nil, seen.insert(key).inserted else { continue }
            // libpq passes parameters as C strings: a NUL would silently cut the text short.
            if tag.key.utf8.contains(0) || tag.value.utf8.contains(0) {
                refused[key] = Refusal(detail: "tag contains a NUL byte, which Postgres text cannot store")
                continue
            }
            pending.append(tag)
            pendingBy.append(producer)
        }
        guard !pending.isEmpty else { return refused }

        // Look up first: an INSERT … ON CONFLICT burns a sequence value per existing tag.
        let new = try lookUp(pending, on: connection)
        guard !new.isEmpty else { return refused }
        pending = new.map { pending[$0] }
        pendingBy = new.map { pendingBy[$0] }
        (pending, pendingBy) = try withinBudget(pending, pendingBy, budget: budget, refusing: &refused, on: connection)
        guard !pending.isEmpty else { return refused }
        do throws(PGError) {
            try insert(pending, pendingBy, on: connection)
        } catch where TagDictionary.isPerTagError(error) {
            // Find the culprit(s) one tag at a time.
            var good: [Tag] = []
            for (tag, producer) in zip(pending, pendingBy) {
                do throws(PGError) {
                    try insert([tag], [producer], on: connection)
                    good.append(tag)
                } catch where TagDictionary.isPerTagError(error) {
                    refused[Key(tag)] = Refusal(detail: TagDictionary.describe(error))
                }
            }
            pending = good
        }
        for index in try lookUp(pending, on: connection) {
            // Inserted (or found) a moment ago and gone now: only a concurrent DELETE does that.
            let tag = pending[index]
            refused[Key(tag)] = Refusal(detail: "tag (\(tag.key), \(tag.value)) vanished from the dictionary while being added")
        }
        return refused
    }

    /// Keeps, per producer, as many of its new tags as its budget still allows; refuses the rest.
    private func withinBudget(_ tags: [Tag], _ producers: [EventUUID], budget: Int, refusing refused: inout [Key: Refusal],
                              on connection: PGConnection) throws(PGError) -> ([Tag], [EventUUID]) {
        let distinct = Array(Set(producers))
        let counts = try connection.query("""
            SELECT created_by::text, count(*) FROM tags WHERE created_by = ANY($1::uuid[]) GROUP BY 1
            """, [TagDictionary.arrayLiteral(distinct.map(\.description))])
        var left: [EventUUID: Int] = [:]
        for producer in distinct { left[producer] = budget }
        for row in counts.rows {
            guard let id = row[0].flatMap({ EventUUID($0) }), let used = row[1].flatMap({ Int($0) }) else { continue }
            left[id] = budget - used
        }
        var kept: ([Tag], [EventUUID]) = ([], [])
        for (tag, producer) in zip(tags, producers) {
            if left[producer, default: 0] > 0 {
                left[producer]! -= 1
                kept.0.append(tag)
                kept.1.append(producer)
            } else {
                refused[Key(tag)] = Refusal(detail: "producer \(producer) has added \(budget) tags to the dictionary, "
                                            + "its budget (server.max_tags_per_producer)", overBudget: true)
            }
        }
        return kept
    }

    /// Caches the ids of the tags that exist; returns the indices of those that do not.
    private mutating func lookUp(_ tags: [Tag], on connection: PGConnection) throws(PGError) -> [Int] {
        guard !tags.isEmpty else { return [] }
        let result = try connection.query("""
            SELECT u.i, t.tag_id
              FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(k, v, i)
              JOIN tags t ON t.key = u.k::citext AND t.value = u.v::citext
            """, [TagDictionary.arrayLiteral(tags.map(\.key)), TagDictionary.arrayLiteral(tags.map(\.value))])
        var found = [Bool](repeating: false, count: tags.count)
        for row in result.rows {
            guard let ordinal = row[0].flatMap({ Int($0) }), ordinal >= 1, ordinal <= tags.count,
                  let id = row[1].flatMap({ Int64($0) }) else { continue }
            found[ordinal - 1] = true
            ids[Key(tags[ordinal - 1])] = id
        }
        return tags.indices.filter { !found[$0] }
    }

    private func insert(_ tags: [Tag], _ producers: [EventUUID], on connection: PGConnection) throws(PGError) {
        _ = try connection.query("""
            INSERT INTO tags (key, value, created_by)
            SELECT k, v, p FROM unnest($1::text[], $2::text[], $3::uuid[]) AS u(k, v, p)
            ON CONFLICT (key, value) DO NOTHING
            """, [TagDictionary.arrayLiteral(tags.map(\.key)), TagDictionary.arrayLiteral(tags.map(\.value)),
                  TagDictionary.arrayLiteral(producers.map(\.description))])
    }

    /// Data errors, and 54000 (program_limit_exceeded: a value too large for the unique index),
    /// are the tag's fault; everything else is the database's.
    static func isPerTagError(_ error: PGError) -> Bool {
        error.kind == .data || error.sqlState == "54000"
    }

    static func describe(_ error: PGError) -> String {
        "\(error.message) (SQLSTATE \(error.sqlState ?? "none"))"
    }

    /// A Postgres array literal of quoted elements: `{"a","b\"c"}`.
    static func arrayLiteral(_ values: [String]) -> String {
        var out = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            out += "\""
            for scalar in value.unicodeScalars {
                if scalar == "\"" || scalar == "\\" { out += "\\" }
                out.unicodeScalars.append(scalar)
            }
            out += "\""
        }
        return out + "}"
    }
}
