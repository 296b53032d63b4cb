import KernelPlugins
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

    /// Resolves `tags` (cache misses, distinct) to ids, inserting the new ones. Runs in autocommit
    /// mode: a dictionary entry is harmless if the batch later fails.
    ///
    /// Returns the tags that the database refused (data errors: a NUL byte, an empty key, a value
    /// too long for the index) with the reason; their events are rejected. Connectivity and other
    /// errors are thrown.
    mutating func resolve(_ tags: [Tag], on connection: PGConnection) throws(PGError) -> [Key: String] {
        var refused: [Key: String] = [:]
        var pending: [Tag] = []
        var seen: Set<Key> = []
        for tag in tags {
            let key = Key(tag)
            guard ids[key] == nil, seen.insert(key).inserted else { continue }
            // libpq passes parameters as C strings: a NUL would silently cut the text short.
            if tag.key.utf8.contains(0) || tag.value.utf8.contains(0) {
                refused[key] = "tag contains a NUL byte, which Postgres text cannot store"
                continue
            }
            pending.append(tag)
        }
        guard !pending.isEmpty else { return refused }

        // Look up first: an INSERT … ON CONFLICT burns a sequence value per existing tag.
        pending = try lookUp(pending, on: connection)
        guard !pending.isEmpty else { return refused }
        do throws(PGError) {
            try insert(pending, on: connection)
        } catch where TagDictionary.isPerTagError(error) {
            // Find the culprit(s) one tag at a time.
            var good: [Tag] = []
            for tag in pending {
                do throws(PGError) {
                    try insert([tag], on: connection)
                    good.append(tag)
                } catch where TagDictionary.isPerTagError(error) {
                    refused[Key(tag)] = TagDictionary.describe(error)
                }
            }
            pending = good
        }
        let missing = try lookUp(pending, on: connection)
        for tag in missing {
            // Inserted (or found) a moment ago and gone now: only a concurrent DELETE does that.
            refused[Key(tag)] = "tag (\(tag.key), \(tag.value)) vanished from the dictionary while being added"
        }
        return refused
    }

    /// Caches the ids of the tags that exist; returns those that do not.
    private mutating func lookUp(_ tags: [Tag], on connection: PGConnection) throws(PGError) -> [Tag] {
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
        return tags.indices.filter { !found[$0] }.map { tags[$0] }
    }

    private func insert(_ tags: [Tag], on connection: PGConnection) throws(PGError) {
        _ = try connection.query("""
            INSERT INTO tags (key, value)
            SELECT k, v FROM unnest($1::text[], $2::text[]) AS u(k, v)
            ON CONFLICT (key, value) DO NOTHING
            """, [TagDictionary.arrayLiteral(tags.map(\.key)), TagDictionary.arrayLiteral(tags.map(\.value))])
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
