import KernelJSON

/// The payload of a subject operation (docs/onboarding.md, "Subjects"), parsed and validated in the order the docs
/// gives: payload shape and `subject_key` first, then the op rules.
///
/// `{op, subject_key, schema_name, schema_body, schema_delta, attrs, attrs_delta}`; `op` is trimmed
/// and case-insensitive. A member that is `null` counts as absent. A member of the wrong JSON type
/// (e.g. `attrs` not an object) makes the payload invalid, as it did for the typed decoder of the
/// earlier kernel.
struct SubjectRequest: Equatable {
    enum Operation: Equatable {
        /// Register: bind the subject to a schema of family `schemaName`.
        case register(schemaName: String, schemaBody: JSONValue, attrs: JSONObject?)
        /// Upgrade: deep-merge `schemaDelta` into the current schema of family `schemaName`.
        case upgrade(schemaName: String, schemaDelta: JSONValue, attrsDelta: JSONObject?)
    }

    /// Why a payload was refused, mapped one to one onto a response.
    enum Refusal: Error, Equatable {
        /// `{error:"invalid_payload"}`, with `details` when the op rules say why.
        case invalidPayload(details: String?)
        /// `{error:"unknown_op", op:<raw op>}`.
        case unknownOp(raw: String)
    }

    /// Longest `subject_key` accepted: the key is in a unique btree index, whose
    /// entries Postgres caps at ~2.7 kB; refusing early gives the producer a clear answer.
    static let maxSubjectKeyBytes = 1024
    /// Longest `schema_name` accepted (also in a unique index; plugin families are ≤ 40).
    static let maxSchemaNameBytes = 256
    /// Nesting limit for the payload (the schema body is one level inside it).
    static let maxDepth = 64

    let subjectKey: String
    let operation: Operation

    /// Parses and validates `payload` (the raw field text).
    static func parse(_ payload: String) throws(Refusal) -> SubjectRequest {
        guard case .object(let object)? = try? JSONParser.parse(payload, maxDepth: maxDepth) else {
            throw .invalidPayload(details: nil)
        }
        let op = try optionalString(object, "op")
        let subjectKey = try optionalString(object, "subject_key")
        let schemaName = try optionalString(object, "schema_name")
        let schemaBody = present(object["schema_body"])
        let schemaDelta = present(object["schema_delta"])
        let attrs = try optionalObject(object, "attrs")
        let attrsDelta = try optionalObject(object, "attrs_delta")

        guard let subjectKey, !subjectKey.isEmpty else { throw .invalidPayload(details: nil) }
        try checkName(subjectKey, field: "subject_key", max: maxSubjectKeyBytes)

        switch normalized(op ?? "") {
        case "register":
            guard let schemaName, !schemaName.isEmpty, let schemaBody else {
                throw .invalidPayload(details: "register requires schema_name and schema_body")
            }
            // An empty attrs_delta changes nothing, so it is not "a delta" (the earlier kernel's map check).
            guard schemaDelta == nil, attrsDelta?.members.isEmpty ?? true else {
                throw .invalidPayload(details: "delta fields not allowed for register")
            }
            try checkName(schemaName, field: "schema_name", max: maxSchemaNameBytes)
            return SubjectRequest(subjectKey: subjectKey,
                                  operation: .register(schemaName: schemaName, schemaBody: schemaBody, attrs: attrs))
        case "upgrade":
            guard let schemaName, !schemaName.isEmpty, let schemaDelta else {
                throw .invalidPayload(details: "upgrade requires schema_name and schema_delta")
            }
            guard schemaBody == nil else {
                throw .invalidPayload(details: "schema_body not allowed for upgrade")
            }
            try checkName(schemaName, field: "schema_name", max: maxSchemaNameBytes)
            return SubjectRequest(subjectKey: subjectKey,
                                  operation: .upgrade(schemaName: schemaName, schemaDelta: schemaDelta, attrsDelta: attrsDelta))
        default:
            throw .unknownOp(raw: op ?? "")
        }
    }

    /// `op` trimmed of surrounding white space and lower-cased (Go `TrimSpace` + `ToLower`).
    static func normalized(_ op: String) -> String {
        var scalars = Substring(op)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return scalars.lowercased()
    }

    /// Key and family names go to Postgres as C strings (a NUL would silently cut them) and into
    /// unique indexes (bounded entry size).
    static func checkName(_ value: String, field: String, max: Int) throws(Refusal) {
        if value.utf8.contains(0) { throw .invalidPayload(details: "\(field) must not contain NUL characters") }
        if value.utf8.count > max { throw .invalidPayload(details: "\(field) longer than \(max) bytes") }
    }

    static func present(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    static func optionalString(_ object: JSONObject, _ name: String) throws(Refusal) -> String? {
        switch object[name] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case _?: throw .invalidPayload(details: nil)
        }
    }

    static func optionalObject(_ object: JSONObject, _ name: String) throws(Refusal) -> JSONObject? {
        switch object[name] {
        case nil, .null?: return nil
        case .object(let o)?: return o
        case _?: throw .invalidPayload(details: nil)
        }
    }
}
