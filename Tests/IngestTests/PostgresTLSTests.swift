import Foundation
import KernelConfig
import KernelPostgres
import KernelTestSupport
import Testing

/// Postgres over TLS with `sslmode=verify-full` (docs/infrastructure.md, "Postgres over TLS"):
/// a Postgres of the test's own with `ssl = on` and a certificate from a throwaway CA made by
/// `openssl`; the kernel's connection (`PGConnection` with the DSN the kernel builds,
/// `KernelConfig.Postgres.connectionDSN`) succeeds with the right CA and name and is refused,
/// saying why, with a wrong name or a wrong CA.
@Suite("Postgres over TLS (sslmode=verify-full)", .serialized)
struct PostgresTLSTests {
    /// The kernel's DSN for `host` (the name checked) reached at 127.0.0.1 (`hostaddr`), with
    /// `root` as the CA, through the same `connectionDSN` the daemon uses.
    static func dsn(port: Int, host: String, root: String, mode: String = "verify-full") -> String {
        KernelConfig.Postgres(dsn: "postgresql://kernel@\(host):\(port)/postgres?hostaddr=127.0.0.1&sslmode=\(mode)&sslrootcert=\(root)")
            .connectionDSN()
    }

    @Test func verifyFullConnectsWithTheRightCAAndNameAndRefusesAWrongOne() throws {
        let pki = try TestCertificates()
        defer { pki.remove() }
        let pg = try PrivatePostgres(extraConfig: """
            ssl = on
            ssl_cert_file = 'server.pem'
            ssl_key_file = 'server.key'
            ssl_min_protocol_version = 'TLSv1.2'
            """, files: ["server.pem": pki.serverCertFile, "server.key": pki.serverKeyFile])
        defer { pg.destroy() }

        // The right CA, a name the certificate carries: connected, and the session is encrypted.
        let good = try PGConnection(dsn: Self.dsn(port: pg.port, host: "localhost", root: pki.caFile))
        defer { good.close() }
        let ssl = try good.query("SELECT ssl::text, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        #expect(ssl.count == 1)
        #expect(ssl[0, 0] == "true")
        #expect(ssl[0, 1]?.hasPrefix("TLSv1.") == true, "\(ssl[0, 1] ?? "nil")")

        // A name the certificate does not carry.
        do {
            _ = try PGConnection(dsn: Self.dsn(port: pg.port, host: "elsewhere.test", root: pki.caFile))
            Issue.record("verify-full accepted a certificate for another name")
        } catch {
            #expect(error.message.contains("does not match host name \"elsewhere.test\""), "\(error.message)")
            // Treated like an unreachable server (retried at start-up, spilled while running):
            // docs/infrastructure.md, "Postgres over TLS".
            #expect(error.kind == .connectivity)
        }
        // verify-ca checks the chain only: the same name passes.
        let chainOnly = try PGConnection(dsn: Self.dsn(port: pg.port, host: "elsewhere.test", root: pki.caFile, mode: "verify-ca"))
        chainOnly.close()

        // A CA that did not sign the server's certificate.
        do {
            _ = try PGConnection(dsn: Self.dsn(port: pg.port, host: "localhost", root: pki.otherCAFile))
            Issue.record("verify-full accepted a certificate from another CA")
        } catch {
            #expect(error.message.contains("certificate verify failed"), "\(error.message)")
        }

        // No CA at all: libpq refuses to start verify-full rather than trusting anything.
        do {
            _ = try PGConnection(dsn: Self.dsn(port: pg.port, host: "localhost", root: pki.dir + "/missing.pem"))
            Issue.record("verify-full connected without a CA file")
        } catch {
            #expect(error.message.contains("root certificate file"), "\(error.message)")
        }
    }
}
