import Testing
@testable import KernelPostgres

@Suite("PGError classification")
struct PGErrorClassificationTests {
    static let connectivityStates = [
        ("08006", "pg_connection_failure"), ("08001", "pg_connection_failure"), ("08P01", "pg_connection_failure"),
        ("57P01", "pg_admin_shutdown"), ("57P02", "pg_crash_shutdown"), ("57P03", "pg_cannot_connect_now"),
        ("25006", "pg_read_only"), ("57014", "pg_timeout"), ("53300", "pg_too_many_connections"),
    ]
    static let dataStates = [
        ("23505", "pg_unique_violation"), ("23502", "pg_not_null_violation"), ("23503", "pg_foreign_key_violation"),
        ("23514", "pg_check_violation"), ("22P02", "pg_invalid_text"), ("22003", "pg_numeric_out_of_range"),
        ("22012", "pg_invalid_data"), ("23999", "pg_integrity_violation"), ("22P04", "pg_bad_copy_format"),
    ]

    @Test("connectivity and data states", arguments:
        connectivityStates.map { ($0, PGError.Kind.connectivity, $1) } + dataStates.map { ($0, PGError.Kind.data, $1) })
    func classified(state: String, kind: PGError.Kind, reason: String) {
        let error = PGError(sqlState: state, message: "x")
        #expect(error.kind == kind)
        #expect(error.reasonCode == reason)
    }

    @Test("other states", arguments: ["42601", "42P01", "40001", "40P01", "XX000", "0A000", "42501"])
    func other(state: String) {
        #expect(PGError(sqlState: state, message: "x").kind == .other)
    }

    @Test("a broken connection is connectivity whatever the SQLSTATE")
    func brokenConnectionWins() {
        for state in ["23505", "22P02", "42601", "XX000"] {
            let error = PGError(sqlState: state, message: "x", connectionBad: true)
            #expect(error.kind == .connectivity)
            #expect(error.reasonCode == "pg_connection_lost")
        }
    }

    @Test("missing or malformed SQLSTATE is connectivity (libpq failed before the server answered)")
    func missingState() {
        for state in [nil, "", "2350", "235055", "ZZ"] as [String?] {
            #expect(PGError(sqlState: state, message: "x").kind == .connectivity)
        }
    }

    @Test("client-side errors keep their reason")
    func clientSide() {
        let error = PGError(clientReason: "pg_bad_numeric", message: "bad")
        #expect(error.kind == .data)
        #expect(error.reasonCode == "pg_bad_numeric")
        #expect(error.sqlState == nil)
        #expect(error.description.contains("pg_bad_numeric"))
    }
}
