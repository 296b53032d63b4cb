import KernelJSON
import KernelPostgres

/// What a subject operation left in the database: the subject's current schema.
struct SubjectBinding: Equatable {
    var subjectID: String
    var schemaID: String
    var schemaName: String
    var schemaVersion: Int
    /// True when the operation did not change the subject's schema (the answer's `unchanged`).
    var unchanged: Bool
}

/// Why a subject operation stored nothing (its transaction was rolled back).
enum SubjectStoreFailure: Error {
    /// A rule of docs/onboarding.md, "Subjects" refused it: `subject_not_found`, `subject_current_schema_missing`,
    /// `schema_family_not_found_for_subject`, `merge_too_deep`, `stored_schema_unreadable`.
    case refused(reason: String)
    /// The plugin serving the family refused the schema (docs/plugins.md, "Subject registration and the payload schema"); `details` says why.
    case schemaMismatch(details: String)
    /// Postgres failed or refused a statement.
    case database(PGError)

    /// The text for the response's `reason` field.
    var reason: String {
        switch self {
        case .refused(let reason): reason
        case .schemaMismatch(let details): details
        case .database(let error): error.message
        }
    }
}

/// The database side of subject registration, upgrade and the schema-upgrade stream (docs/onboarding.md, "Subjects";
/// docs/architecture.md, "Data model"). Each operation is one transaction: it either leaves the subject bound to its new current
/// schema (history row, producer binding included) or changes nothing.
///
/// The plugin check (docs/plugins.md, "Subject registration and the payload schema") runs on every schema a subject is newly bound to (an existing
/// version bound by register, a created version), inside the transaction, so a refusal stores
/// nothing. An operation that keeps the subject's current schema is not re-checked.
///
/// Locks, always taken in this order so concurrent operations cannot deadlock: the subject row
/// (by the upsert or `FOR UPDATE`), then the family's transaction-scoped advisory lock, which
/// serializes version numbering per family (`max(version)+1` would otherwise race; the unique
/// `(name, version)` constraint is the backstop).
struct SubjectStore {
    let pg: PGConnection
    let pluginCheck: PluginSchemaCheck

    /// Nesting accepted when reading a stored body back (bodies are written ≤ 64 deep).
    static let storedBodyMaxDepth = 256

    // MARK: operations

    /// `register` (docs/onboarding.md, "Subjects"): ensure the subject (attrs shallow-merged), keep its current schema if
    /// it has one, else bind the lowest existing version of `schemaName` or create version 1.
    func register(producerID: String, subjectKey: String, schemaName: String, body: JSONValue,
                  attrs: JSONObject?) throws(SubjectStoreFailure) -> SubjectBinding {
        let bodyText = JSONWriter.serialize(body)
        return try transaction { () throws(SubjectStoreFailure) -> SubjectBinding in
            let subject = try ensureSubject(key: subjectKey, attrs: attrs)
            var binding: SubjectBinding
            if let current = subject.currentSchemaID {
                let r = try query("""
                    SELECT name, version, (body = $2::jsonb)::text FROM schemas WHERE schema_id = $1::uuid
                    """, [current, bodyText])
                guard r.count == 1, let name = r[0, 0], let version = r[0, 1].flatMap({ Int($0) }) else {
                    throw .refused(reason: "subject_current_schema_missing")
                }
                binding = SubjectBinding(subjectID: subject.id, schemaID: current, schemaName: name,
                                         schemaVersion: version, unchanged: r[0, 2] == "true")
                // Not re-checked against plugins: nothing changes, and a refusal would lock the
                // producer out of a subject that register cannot repair.
            } else {
                try lockFamily(schemaName)
                let lowest = try query("""
                    SELECT schema_id::text, version, body::text FROM schemas WHERE name = $1 ORDER BY version LIMIT 1
                    """, [schemaName])
                if lowest.count == 1, let id = lowest[0, 0], let version = lowest[0, 1].flatMap({ Int($0) }) {
                    binding = SubjectBinding(subjectID: subject.id, schemaID: id, schemaName: schemaName,
                                             schemaVersion: version, unchanged: false)
                    try checkPlugin(name: schemaName, version: version, bodyText: lowest[0, 2] ?? "null")
                    // The producer's own body too: binding it to a version its body contradicts
                    // would silently store its events under a schema it never agreed to.
                    try checkPlugin(name: schemaName, version: version, body: body)
                } else {
                    try checkPlugin(name: schemaName, version: 1, body: body)
                    let id = try insertSchema(name: schemaName, version: 1, bodyText: bodyText)
                    binding = SubjectBinding(subjectID: subject.id, schemaID: id, schemaName: schemaName,
                                             schemaVersion: 1, unchanged: false)
                }
                try setCurrent(subjectID: subject.id, schemaID: binding.schemaID)
            }
            try bind(producerID: producerID, subjectID: subject.id, schemaID: binding.schemaID)
            return binding
        }
    }

    /// `upgrade` (docs/onboarding.md, "Subjects"): the subject must exist and have a current schema of family
    /// `schemaName`; the new body is the deep merge of `delta` into it. An equal result keeps the
    /// current version (`unchanged`); otherwise version max+1 of the family is created.
    func upgrade(producerID: String, subjectKey: String, schemaName: String, delta: JSONValue,
                 attrsDelta: JSONObject?) throws(SubjectStoreFailure) -> SubjectBinding {
        try transaction { () throws(SubjectStoreFailure) -> SubjectBinding in
            let r = try query("""
                SELECT s.subject_id::text, s.attrs::text, sc.schema_id::text, sc.name, sc.version, sc.body::text
                FROM subjects s LEFT JOIN schemas sc ON sc.schema_id = s.current_schema_id
                WHERE s.subject_key = $1 FOR UPDATE OF s
                """, [subjectKey])
            guard r.count == 1, let subjectID = r[0, 0] else { throw .refused(reason: "subject_not_found") }
            guard let currentID = r[0, 2], let currentName = r[0, 3], let currentVersion = r[0, 4].flatMap({ Int($0) })
            else { throw .refused(reason: "subject_current_schema_missing") }
            guard PluginSchemaCheck.sameBytes(currentName, schemaName) else {
                throw .refused(reason: "schema_family_not_found_for_subject")
            }

            let merged = try Self.merge(stored: r[0, 5] ?? "null", delta: delta)
            let mergedText = JSONWriter.serialize(merged)
            if let attrsDelta {
                let attrs = try Self.merge(stored: r[0, 1] ?? "{}", delta: .object(attrsDelta))
                _ = try query("UPDATE subjects SET attrs = $2::jsonb, last_seen_at = now() WHERE subject_id = $1::uuid",
                              [subjectID, JSONWriter.serialize(attrs)])
            } else {
                _ = try query("UPDATE subjects SET last_seen_at = now() WHERE subject_id = $1::uuid", [subjectID])
            }

            let same = try query("SELECT (body = $2::jsonb)::text FROM schemas WHERE schema_id = $1::uuid",
                                 [currentID, mergedText])
            var binding: SubjectBinding
            if same.scalar == "true" {
                binding = SubjectBinding(subjectID: subjectID, schemaID: currentID, schemaName: currentName,
                                         schemaVersion: currentVersion, unchanged: true)
            } else {
                try lockFamily(currentName)
                let version = try nextVersion(of: currentName)
                try checkPlugin(name: currentName, version: version, body: merged)
                let id = try insertSchema(name: currentName, version: version, bodyText: mergedText)
                try setCurrent(subjectID: subjectID, schemaID: id)
                binding = SubjectBinding(subjectID: subjectID, schemaID: id, schemaName: currentName,
                                         schemaVersion: version, unchanged: false)
            }
            try bind(producerID: producerID, subjectID: subjectID, schemaID: binding.schemaID)
            return binding
        }
    }

    /// The schema-upgrade stream (docs/onboarding.md, "Schema upgrade stream"): always version max+1 of
    /// `schemaName` with the full `body`, creating the subject if needed (attrs shallow-merged).
    func appendVersion(producerID: String, subjectKey: String, schemaName: String, body: JSONValue,
                       attrs: JSONObject?) throws(SubjectStoreFailure) -> SubjectBinding {
        try transaction { () throws(SubjectStoreFailure) -> SubjectBinding in
            let subject = try ensureSubject(key: subjectKey, attrs: attrs)
            try lockFamily(schemaName)
            let version = try nextVersion(of: schemaName)
            try checkPlugin(name: schemaName, version: version, body: body)
            let id = try insertSchema(name: schemaName, version: version, bodyText: JSONWriter.serialize(body))
            try setCurrent(subjectID: subject.id, schemaID: id)
            try bind(producerID: producerID, subjectID: subject.id, schemaID: id)
            return SubjectBinding(subjectID: subject.id, schemaID: id, schemaName: schemaName,
                                  schemaVersion: version, unchanged: false)
        }
    }

    // MARK: steps

    /// Creates the subject or updates it: attrs shallow-merged (`||`), `last_seen_at` bumped. The
    /// upsert also locks the row for the rest of the transaction.
    private func ensureSubject(key: String, attrs: JSONObject?) throws(SubjectStoreFailure) -> (id: String, currentSchemaID: String?) {
        let r = try query("""
            INSERT INTO subjects (subject_key, attrs) VALUES ($1, COALESCE($2::jsonb, '{}'::jsonb))
            ON CONFLICT (subject_key) DO UPDATE
                SET attrs = subjects.attrs || COALESCE($2::jsonb, '{}'::jsonb), last_seen_at = now()
            RETURNING subject_id::text, current_schema_id::text
            """, [key, attrs.map { JSONWriter.serialize(.object($0)) }])
        guard r.count == 1, let id = r[0, 0] else { throw .database(PGError(clientReason: "pg_no_row", kind: .other, message: "subject upsert returned no row")) }
        return (id, r[0, 1])
    }

    /// Serializes version numbering of one family until the transaction ends.
    private func lockFamily(_ name: String) throws(SubjectStoreFailure) {
        _ = try query("SELECT pg_advisory_xact_lock(hashtextextended('kernel.schema_family:' || $1, 0))", [name])
    }

    private func nextVersion(of name: String) throws(SubjectStoreFailure) -> Int {
        let r = try query("SELECT COALESCE(max(version), 0) + 1 FROM schemas WHERE name = $1", [name])
        guard let version = r.scalar.flatMap({ Int($0) }) else {
            throw .database(PGError(clientReason: "pg_no_row", kind: .other, message: "next schema version unreadable"))
        }
        return version
    }

    private func insertSchema(name: String, version: Int, bodyText: String) throws(SubjectStoreFailure) -> String {
        let r = try query("INSERT INTO schemas (name, version, body) VALUES ($1, $2::int, $3::jsonb) RETURNING schema_id::text",
                          [name, String(version), bodyText])
        guard let id = r.scalar else { throw .database(PGError(clientReason: "pg_no_row", kind: .other, message: "schema insert returned no row")) }
        return id
    }

    private func setCurrent(subjectID: String, schemaID: String) throws(SubjectStoreFailure) {
        _ = try query("UPDATE subjects SET current_schema_id = $2::uuid, last_seen_at = now() WHERE subject_id = $1::uuid",
                      [subjectID, schemaID])
    }

    /// Appends the history row and binds the producer, both idempotently.
    private func bind(producerID: String, subjectID: String, schemaID: String) throws(SubjectStoreFailure) {
        _ = try query("INSERT INTO subject_schemas (subject_id, schema_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING",
                      [subjectID, schemaID])
        _ = try query("INSERT INTO producer_subjects (producer_id, subject_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING",
                      [producerID, subjectID])
    }

    private func checkPlugin(name: String, version: Int, bodyText: String) throws(SubjectStoreFailure) {
        guard pluginCheck.serves(family: name) else { return }
        guard let body = try? JSONParser.parse(bodyText, maxDepth: Self.storedBodyMaxDepth) else {
            throw .refused(reason: "stored_schema_unreadable")
        }
        try checkPlugin(name: name, version: version, body: body)
    }

    private func checkPlugin(name: String, version: Int, body: JSONValue) throws(SubjectStoreFailure) {
        if case .refused(let details) = pluginCheck.check(family: name, version: version, body: body) {
            throw .schemaMismatch(details: details)
        }
    }

    /// Deep merge of `delta` into the stored JSON text `stored`.
    static func merge(stored: String, delta: JSONValue) throws(SubjectStoreFailure) -> JSONValue {
        guard let base = try? JSONParser.parse(stored, maxDepth: storedBodyMaxDepth) else {
            throw .refused(reason: "stored_schema_unreadable")
        }
        do {
            return try JSONDeepMerge.merge(base, delta)
        } catch {
            throw .refused(reason: error.reasonCode)
        }
    }

    // MARK: plumbing

    private func query(_ sql: String, _ params: [String?]) throws(SubjectStoreFailure) -> PGResult {
        do {
            return try pg.query(sql, params)
        } catch {
            throw .database(error)
        }
    }

    /// Runs `body` in a transaction; any failure rolls it back and is rethrown.
    private func transaction<T>(_ body: () throws(SubjectStoreFailure) -> T) throws(SubjectStoreFailure) -> T {
        try pg.transaction(mappingErrors: SubjectStoreFailure.database, body)
    }
}
