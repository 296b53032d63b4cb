import KernelConfig
import Testing

/// `postgres.connect_timeout_ms` and `postgres.statement_timeout_ms` reach every connection the
/// kernel opens, as libpq parameters of the DSN (they were parsed and documented but never read).
@Suite("postgres connection DSN")
struct ConnectionDSNTests {
    @Test func urlFormGetsBothTimeoutsEncoded() {
        var pg = KernelConfig.Postgres(dsn: "postgres://kernel@127.0.0.1:5432/kernel?sslmode=disable")
        pg.connectTimeoutMs = 1500
        pg.statementTimeoutMs = 30000
        #expect(pg.connectionDSN() == "postgres://kernel@127.0.0.1:5432/kernel?sslmode=disable&connect_timeout=2&options=-c%20statement_timeout%3D30000")
        #expect(pg.connectionDSN(forMigrations: true) == "postgres://kernel@127.0.0.1:5432/kernel?sslmode=disable&connect_timeout=2")
    }

    @Test func keyValueFormAndWhatTheDSNSetsItselfWins() {
        var pg = KernelConfig.Postgres(dsn: "host=/run/postgresql dbname=kernel")
        pg.connectTimeoutMs = 7000
        pg.statementTimeoutMs = 0
        #expect(pg.connectionDSN() == "host=/run/postgresql dbname=kernel connect_timeout='7'")
        pg.statementTimeoutMs = 500
        #expect(pg.connectionDSN() == "host=/run/postgresql dbname=kernel connect_timeout='7' options='-c statement_timeout=500'")
        let own = KernelConfig.Postgres(dsn: "postgres://h/db?connect_timeout=9&options=-c%20work_mem%3D64MB")
        #expect(own.connectionDSN() == own.dsn)
        #expect(KernelConfig.Postgres(dsn: "postgres://h/db").connectionDSN() == "postgres://h/db?connect_timeout=5&options=-c%20statement_timeout%3D30000")
    }
}
