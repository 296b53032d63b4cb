import Foundation
import KernelPostgres

/// Exactly the rows the kernel stored for a drain, read back from Postgres and encoded for
/// binary COPY in batches: each batch holds its events' rows of the typed table and their
/// `event_tags` links, as one kernel writer transaction does (EventWriter's fast path: COPY
/// md_<family>, then COPY event_tags, one transaction). The batches are the kernel's own
/// transactions (rows grouped by `xmin`), so the raw run pays Postgres' per-transaction costs
/// exactly as often as the kernel did; or a fixed number of events each.
///
/// The kernel writes nothing else per event: no `events` row for a typed family, no stats
/// counters; the `tags` dictionary is upserted only on a cache miss (the first batches), so it is
/// left as the kernel left it.
struct StoredRows {
    struct Batch {
        var typed: [UInt8]
        var tags: [UInt8]
        /// The batch's events' `event_ids` rows (event id, content digest), as the kernel's
        /// writer COPYs them in the same transaction.
        var identities: [UInt8]
    }

    let table: String
    let columns: [String]
    let batches: [Batch]
    let events: Int
    let typedRows: Int
    let tagRows: Int
    /// Links in `event_tags` whose event is not in `table` (none after a trade drain).
    let foreignTagRows: Int
    /// `event_ids` rows of the captured events (one per event the kernel stored).
    let identityRows: Int
    /// Whether the database has the `event_tags` table (before migration 0012; after it the tags
    /// are `tag_ids` on the rows, read and copied with them).
    let tagTable: Bool

    /// Reads `table` (every column: the kernel's COPY sends `received_at` too) and `event_tags`, in (ts, event_id, row_no) order.
    /// - Parameter eventsPerTransaction: events per batch; nil: the kernel's transactions.
    static func capture(from env: BenchEnvironment, table: String, eventsPerTransaction: Int?) throws -> StoredRows {
        let pg = env.pg
        let described = try pg.query("""
            SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum
            """, [table])
        let names = described.rows.compactMap { $0[0] }
        let types = described.rows.compactMap { $0[1] }
        guard !names.isEmpty, names.count == types.count,
              let idColumn = names.firstIndex(of: "event_id"), let tsColumn = names.firstIndex(of: "ts") else {
            throw BenchError("stored rows: \(table) has no event_id/ts columns")
        }
        var selects: [String] = []
        for (name, type) in zip(names, types) {
            let q = try pg.quoteIdentifier(name)
            selects.append(type == "timestamptz" ? "(extract(epoch FROM \(q)) * 1000000)::int8" : "\(q)::text")
        }
        let quotedTable = try pg.quoteIdentifier(table)
        // The writing transaction's id last (not copied): rows in commit order, then as stored.
        let result = try pg.query("""
            SELECT \(selects.joined(separator: ", ")), xmin::text FROM \(quotedTable)
             ORDER BY xmin::text::int8, ts, event_id\(names.contains("row_no") ? ", row_no" : "")
            """)
        let xminColumn = names.count

        // Events in order, and where each one's rows are.
        var eventIndex: [String: Int] = [:]
        var eventRows: [Range<Int>] = []
        var lastKey = ""
        for (i, row) in result.rows.enumerated() {
            let key = (row[idColumn] ?? "") + "|" + (row[tsColumn] ?? "")
            if key == lastKey, let last = eventRows.indices.last {
                eventRows[last] = eventRows[last].lowerBound..<(i + 1)
            } else {
                eventIndex[key] = eventRows.count
                eventRows.append(i..<(i + 1))
                lastKey = key
            }
        }
        var eventTags = [[Int64]](repeating: [], count: eventRows.count)
        var tagRows = 0, foreign = 0
        // Since migration 0012 the tags are `tag_ids` on the rows, read with them; before, the
        // `event_tags` rows.
        let tagTable = try pg.query("SELECT to_regclass('event_tags') IS NOT NULL").scalar == "t"
        let links: [[String?]] = tagTable ? try pg.query("""
            SELECT event_id::text, (extract(epoch FROM ts) * 1000000)::int8, tag_id FROM event_tags ORDER BY event_id, ts, tag_id
            """).rows : []
        for link in links {
            guard let id = link[0], let ts = link[1], let tag = link[2].flatMap({ Int64($0) }) else { continue }
            guard let event = eventIndex[id + "|" + ts] else { foreign += 1; continue }
            eventTags[event].append(tag)
            tagRows += 1
        }

        // Each event's identity row as the kernel wrote it (`event_ids`: the event id, the digest).
        var digests: [String: [UInt8]] = [:]
        for row in try pg.query("SELECT event_id::text, encode(digest, 'hex') FROM event_ids").rows {
            guard let id = row[0], let hex = row[1] else { continue }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(hex.utf8.count / 2)
            var high: UInt8?
            for c in hex.utf8 {
                let v = c <= UInt8(ascii: "9") ? c &- UInt8(ascii: "0") : c &- UInt8(ascii: "a") &+ 10
                if let h = high { bytes.append(h << 4 | v); high = nil } else { high = v }
            }
            digests[id] = bytes
        }
        var identityRows = 0

        var batches: [Batch] = []
        var first = 0
        while first < eventRows.count {
            var last = first + 1
            if let eventsPerTransaction {
                last = min(eventRows.count, first + eventsPerTransaction)
            } else {
                let xmin = result.rows[eventRows[first].lowerBound][xminColumn]
                while last < eventRows.count, result.rows[eventRows[last].lowerBound][xminColumn] == xmin { last += 1 }
            }
            var typed = PGBinaryCopyEncoder(reserving: (eventRows[last - 1].upperBound - eventRows[first].lowerBound) * 200)
            var tags = PGBinaryCopyEncoder(reserving: (last - first) * 64)
            var identities = PGBinaryCopyEncoder(reserving: (last - first) * 60)
            var anyTag = false
            for event in first..<last {
                let head = result.rows[eventRows[event].lowerBound]
                if let id = head[idColumn], let digest = digests[id] {
                    identities.beginTuple(fieldCount: 2)
                    try identities.appendUUID(id)
                    identities.appendBytea(digest)
                    identityRows += 1
                }
                for r in eventRows[event] {
                    let row = result.rows[r]
                    typed.beginTuple(fieldCount: names.count)
                    for c in 0..<names.count { try append(row[c], type: types[c], column: names[c], to: &typed) }
                }
                for tag in eventTags[event] {
                    let row = result.rows[eventRows[event].lowerBound]
                    tags.beginTuple(fieldCount: 3)
                    try append(row[idColumn], type: "uuid", column: "event_id", to: &tags)
                    try append(row[tsColumn], type: "timestamptz", column: "ts", to: &tags)
                    tags.appendInt8(tag)
                    anyTag = true
                }
            }
            typed.finish()
            tags.finish()
            identities.finish()
            batches.append(Batch(typed: typed.takeBytes(), tags: anyTag ? tags.takeBytes() : [], identities: identities.takeBytes()))
            first = last
        }
        return StoredRows(table: table, columns: names, batches: batches, events: eventRows.count,
                          typedRows: result.rows.count, tagRows: tagRows, foreignTagRows: foreign, identityRows: identityRows,
                          tagTable: tagTable)
    }

    /// One text value (timestamptz as Unix µs) in the column's binary format.
    private static func append(_ value: String?, type: String, column: String, to e: inout PGBinaryCopyEncoder) throws {
        guard let value else { e.appendNull(); return }
        func bad() -> BenchError { BenchError("stored rows: column \(column) (\(type)): cannot read \(value.prefix(40))") }
        switch type {
        case "uuid": try e.appendUUID(value)
        case "text", "varchar", "citext": e.appendText(value)
        case "numeric": try e.appendNumeric(value)
        case "int4": guard let v = Int32(value) else { throw bad() }; e.appendInt4(v)
        case "int8": guard let v = Int64(value) else { throw bad() }; e.appendInt8(v)
        case "float8": guard let v = Double(value) else { throw bad() }; e.appendFloat8(v)
        case "bool": e.appendBool(value == "t")
        case "jsonb": e.appendJSONB(value)
        case "_int8":
            let items = value.dropFirst().dropLast().split(separator: ",")
            var ids: [Int64] = []
            for item in items { guard let id = Int64(item) else { throw bad() }; ids.append(id) }
            e.appendInt8Array(ids)
        case "timestamptz": guard let v = Int64(value) else { throw bad() }; e.appendTimestamptz(unixMicros: v)
        default: throw BenchError("stored rows: column \(column) has type \(type), which the bench does not encode")
        }
    }
}

/// The raw limit for the same rows: `StoredRows` binary-COPYed back into the same tables (after
/// TRUNCATE, which keeps indexes and partitions, and CHECKPOINT) over `connections`
/// connections, one transaction per batch with two COPYs (typed rows, then tag links), as the
/// kernel's writers do. No kernel, no Redis, no staging, no encoding on the clock.
struct StoredRowsCopyRun {
    struct Result {
        var events: Int
        var typedRows: Int
        var tagRows: Int
        var transactions: Int
        var seconds: Double
        var postgresCPUSeconds: Double
        var eventsPerSecond: Double { Double(events) / seconds }
        var rowsPerSecond: Double { Double(typedRows + tagRows) / seconds }
    }

    let environment: BenchEnvironment
    let stored: StoredRows
    let connections: Int
    /// false: the table's rows only, without their `event_tags` links (the "rows only" ceiling).
    var withTags = true
    /// true: each transaction also COPYs its events' `event_ids` rows first, as the kernel's
    /// writer does (event identity, docs/producers.md "Event identity"): the Postgres cost of
    /// identity is this run's CPU minus the run without.
    var withIdentity = false

    func run() throws -> Result {
        let env = environment
        let table = try env.pg.quoteIdentifier(stored.table)
        var quoted: [String] = []
        for c in stored.columns { quoted.append(try env.pg.quoteIdentifier(c)) }
        let typedSQL = "COPY \(table) (\(quoted.joined(separator: ", "))) FROM STDIN (FORMAT binary)"
        let tagSQL = "COPY event_tags (event_id, ts, tag_id) FROM STDIN (FORMAT binary)"
        let identitySQL = "COPY event_ids (event_id, digest) FROM STDIN (FORMAT binary)"
        // Since migration 0012 there is no `event_tags` table: the tags are on the rows.
        let tagTable = stored.tagTable
        try env.pg.execute("TRUNCATE \(table)" + (tagTable ? ", event_tags" : "") + (withIdentity ? ", event_ids" : ""))
        try env.pg.execute("CHECKPOINT")

        let work = WorkQueue(stored.batches)
        let withTags = self.withTags, withIdentity = self.withIdentity
        let measured = try work.drain(env, connections: connections) { c, batch in
            try c.transaction { () throws(PGError) in
                if withIdentity, !batch.identities.isEmpty {
                    try c.copyIn(identitySQL) { writer in try writer.write(batch.identities) }
                }
                try c.copyIn(typedSQL) { writer in try writer.write(batch.typed) }
                if withTags, !batch.tags.isEmpty { try c.copyIn(tagSQL) { writer in try writer.write(batch.tags) } }
            }
        }
        if let failure = work.failure { throw BenchError("raw copy of the stored rows failed: \(failure)") }
        let typedRows = try env.rows(in: stored.table)
        let tagRows = tagTable ? try env.rows(in: "event_tags") : 0
        let expectedTags = withTags ? stored.tagRows : 0
        if withIdentity {
            let identityRows = try env.rows(in: "event_ids")
            guard identityRows == stored.identityRows else {
                throw BenchError("raw copy of the stored rows: wrote \(identityRows) event_ids rows, expected \(stored.identityRows)")
            }
        }
        guard typedRows == stored.typedRows, tagRows == expectedTags else {
            throw BenchError("raw copy of the stored rows: wrote \(typedRows) + \(tagRows) rows, expected \(stored.typedRows) + \(expectedTags)")
        }
        return Result(events: stored.events, typedRows: typedRows, tagRows: tagRows, transactions: stored.batches.count,
                      seconds: measured.seconds, postgresCPUSeconds: measured.postgresCPUSeconds)
    }
}
