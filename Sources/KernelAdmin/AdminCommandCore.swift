import KernelJSON

/// What `kernel admin …` does, minus argument parsing: build the request, send it signed, and
/// format the answer (a table, or the JSON as received). Lives here so tests drive it directly.
public struct AdminCommandCore: Sendable {
    /// One command's result.
    public struct Output: Sendable {
        /// HTTP status.
        public let status: Int
        /// True for 2xx.
        public var success: Bool { (200..<300).contains(status) }
        /// The response body (JSON text, or empty).
        public let body: String
        /// Human-readable rendering.
        public let table: String
    }

    public let client: AdminClient

    public init(client: AdminClient) { self.client = client }

    /// `GET /auth?filter=pending`.
    public func pending() async throws -> Output {
        try await get(query: "filter=pending")
    }

    /// `GET /auth?filter=<filter>&long=<long>` (`all`, `registered`, `active`).
    public func producers(filter: String, long: Bool) async throws -> Output {
        try await get(query: "filter=\(Self.queryEscape(filter))&long=\(long)")
    }

    /// `POST /auth/review {action:"approve", producer_id, fingerprint, notes?}`.
    public func approve(producerID: String, fingerprint: String, notes: String?) async throws -> Output {
        var members: [(key: String, value: JSONValue)] = [
            ("action", .string("approve")), ("producer_id", .string(producerID)), ("fingerprint", .string(fingerprint)),
        ]
        if let notes { members.append(("notes", .string(notes))) }
        return try await post("/auth/review", .object(JSONObject(members)))
    }

    /// `POST /auth/review {action:"deny", producer_id, fingerprint, reason}`.
    public func deny(producerID: String, fingerprint: String, reason: String) async throws -> Output {
        try await post("/auth/review", .object(JSONObject([
            ("action", .string("deny")), ("producer_id", .string(producerID)), ("fingerprint", .string(fingerprint)),
            ("reason", .string(reason)),
        ])))
    }

    /// `POST /auth/revoke {jti, reason}` (204 on success).
    public func revoke(jti: String, reason: String?) async throws -> Output {
        var members: [(key: String, value: JSONValue)] = [("jti", .string(jti))]
        if let reason { members.append(("reason", .string(reason))) }
        return try await post("/auth/revoke", .object(JSONObject(members)))
    }

    // MARK: Requests

    private func get(query: String) async throws -> Output {
        format(try await client.send(method: "GET", path: "/auth", query: query))
    }

    private func post(_ path: String, _ body: JSONValue) async throws -> Output {
        // Send the canonical text: it is what gets signed, so nothing can diverge.
        let bytes = JSONCanonical.canonicalize(Array(JSONWriter.serialize(body).utf8))
        return format(try await client.send(method: "POST", path: path, body: bytes))
    }

    private func format(_ response: AdminClient.Response) -> Output {
        let text = response.text
        let table: String
        switch response.status {
        case 204: table = "ok (204 No Content)\n"
        case 401: table = "401 Unauthorized: the server refused the admin credentials (its log says why)\n"
        default:
            if let json = try? JSONParser.parse(response.body) {
                table = (response.status >= 300 ? "HTTP \(response.status)\n" : "") + Self.render(json)
            } else {
                table = "HTTP \(response.status)\n" + text + (text.hasSuffix("\n") || text.isEmpty ? "" : "\n")
            }
        }
        return Output(status: response.status, body: text, table: table)
    }

    // MARK: Rendering

    /// An array of objects as an aligned table; an object as `key: value` lines.
    static func render(_ json: JSONValue) -> String {
        switch json {
        case .array(let rows):
            if rows.isEmpty { return "(none)\n" }
            var columns: [String] = []
            for row in rows { for key in row.objectValue?.keys ?? [] where !columns.contains(key) { columns.append(key) } }
            let cells = rows.map { row in columns.map { cell(row[$0]) } }
            let widths = columns.indices.map { i in max(columns[i].count, cells.map { $0[i].count }.max() ?? 0) }
            func line(_ values: [String]) -> String {
                zip(values, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
                    .trimmingScalars(in: " ") + "\n"
            }
            return line(columns.map { $0.uppercased() }) + cells.map(line).joined()
        case .object(let object):
            let width = object.keys.map(\.count).max() ?? 0
            return object.members.map { "\($0.key):" + String(repeating: " ", count: width - $0.key.count + 1) + cell($0.value) + "\n" }
                .joined()
        default:
            return cell(json) + "\n"
        }
    }

    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "-"
        case .string(let s)?: return s.isEmpty ? "-" : s
        case let other?: return JSONWriter.serialize(other)
        }
    }

    /// Percent-encodes everything but unreserved characters.
    static func queryEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == "." || c == "~") {
                out.append(c)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// Runs async work from synchronous code (the `kernel` CLI is synchronous), blocking the thread.
    public static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = BlockingResult<T>()
        Task {
            do { outcome.set(.success(try await body())) } catch { outcome.set(.failure(error)) }
        }
        return try outcome.wait().get()
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
