/// An error from libpq or the Postgres server.
///
/// `kind` is what callers branch on: a `.connectivity` error means the database could not be
/// reached or went away (retry, back off, spill); a `.data` error means this input was refused
/// (isolate the bad row, dead-letter it); `.other` is everything else (a bug, a permission, a
/// missing table). `reasonCode` is a stable snake_case string for logs, metrics and the DLQ.
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// How the error should be handled.
    public enum Kind: String, Sendable {
        /// The server is unreachable, went away, is shutting down, is read-only, or timed out.
        case connectivity
        /// The data was refused: invalid values (SQLSTATE class 22) or constraint violations (class 23).
        case data
        /// Anything else: syntax, permissions, undefined objects, internal errors.
        case other
    }

    /// The five-character SQLSTATE (PG_DIAG_SQLSTATE), nil when libpq failed before the server answered.
    public let sqlState: String?
    /// The server's primary message, or libpq's error text.
    public let message: String
    /// The handling class, derived from `sqlState` and the connection state.
    public let kind: Kind
    /// A stable reason code, e.g. `pg_unique_violation`, `pg_connection_lost`.
    public let reasonCode: String

    /// Builds an error and classifies it.
    /// - Parameters:
    ///   - sqlState: the SQLSTATE if the server sent one.
    ///   - message: human text.
    ///   - connectionBad: true when libpq reports the connection as broken; that always wins,
    ///     because whatever the server said last, the next statement cannot run on it.
    public init(sqlState: String?, message: String, connectionBad: Bool = false) {
        self.sqlState = sqlState
        self.message = message
        (kind, reasonCode) = PGError.classify(sqlState: sqlState, connectionBad: connectionBad)
    }

    /// An error raised on the client side (bad input to an encoder, aborted COPY), never connectivity.
    public init(clientReason: String, kind: Kind = .data, message: String) {
        self.sqlState = nil
        self.message = message
        self.kind = kind
        self.reasonCode = clientReason
    }

    public var description: String {
        "PGError(\(kind.rawValue), \(reasonCode), sqlstate \(sqlState ?? "-")): \(message)"
    }

    /// The SQLSTATE of a refused connection, which libpq gives only as text: a server that is
    /// starting up, shutting down or in recovery answers 57P03 (cannot_connect_now), and will
    /// accept connections within moments: the breaker retries it soon (docs/operations.md).
    public static func connectFailureState(_ message: String) -> String? {
        let transient = ["the database system is starting up", "the database system is shutting down",
                         "the database system is in recovery mode", "the database system is not yet accepting connections"]
        return transient.contains { message.contains($0) } ? "57P03" : nil
    }

    /// True for 57P03: the server is up but not accepting connections yet.
    public var isServerStarting: Bool { sqlState == "57P03" }

    /// Maps an SQLSTATE (and the connection state) to a kind and a reason code.
    ///
    /// Connectivity: class 08 (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown,
    /// 57P03 cannot_connect_now, 57014 query_canceled (statement timeout), 53300
    /// too_many_connections, 25006 read_only_sql_transaction (we are on a standby after a
    /// failover), and any failure with no SQLSTATE or a broken connection.
    public static func classify(sqlState: String?, connectionBad: Bool) -> (Kind, String) {
        guard let state = sqlState, state.utf8.count == 5 else {
            return (.connectivity, connectionBad ? "pg_connection_lost" : "pg_client_failure")
        }
        if let hit = specificStates[state] {
            // A broken connection outranks whatever the last result said.
            return connectionBad ? (.connectivity, "pg_connection_lost") : hit
        }
        if connectionBad { return (.connectivity, "pg_connection_lost") }
        switch state.prefix(2) {
        case "08": return (.connectivity, "pg_connection_failure")
        case "22": return (.data, "pg_invalid_data")
        case "23": return (.data, "pg_integrity_violation")
        default: return (.other, "pg_error")
        }
    }

    private static let specificStates: [String: (Kind, String)] = [
        "57P01": (.connectivity, "pg_admin_shutdown"),
        "57P02": (.connectivity, "pg_crash_shutdown"),
        "57P03": (.connectivity, "pg_cannot_connect_now"),
        "57014": (.connectivity, "pg_timeout"),
        "53300": (.connectivity, "pg_too_many_connections"),
        "25006": (.connectivity, "pg_read_only"),
        "23505": (.data, "pg_unique_violation"),
        "23502": (.data, "pg_not_null_violation"),
        "23503": (.data, "pg_foreign_key_violation"),
        "23514": (.data, "pg_check_violation"),
        "23P01": (.data, "pg_exclusion_violation"),
        "22P02": (.data, "pg_invalid_text"),
        "22003": (.data, "pg_numeric_out_of_range"),
        "22001": (.data, "pg_string_too_long"),
        "22007": (.data, "pg_invalid_datetime"),
        "22008": (.data, "pg_datetime_out_of_range"),
        "22P04": (.data, "pg_bad_copy_format"),
        "22021": (.data, "pg_bad_encoding"),
        "22P05": (.data, "pg_untranslatable_character"),
        "23000": (.data, "pg_integrity_violation"),
        "40001": (.other, "pg_serialization_failure"),
        "40P01": (.other, "pg_deadlock"),
        "42P01": (.other, "pg_undefined_table"),
        "42703": (.other, "pg_undefined_column"),
        "42601": (.other, "pg_syntax_error"),
        "42501": (.other, "pg_insufficient_privilege"),
        "42P07": (.other, "pg_duplicate_table"),
    ]
}
