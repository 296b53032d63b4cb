@testable import KernelConfig
import Testing

/// The admin listener refuses to serve plain HTTP beyond loopback unless the config says so.
@Suite("Admin listener: loopback, TLS or an explicit plaintext allowance")
struct AdminListenerTests {
    @Test("loopback addresses need neither tls nor the allowance", arguments: [
        "127.0.0.1:7600", "127.9.8.7:0", "[::1]:7600", "localhost:7600",
    ])
    func loopback(listen: String) throws {
        let config = try Fixture.parse(Fixture.yaml(["server": ["listen: \"\(listen)\""]]))
        #expect(config.server.listen.isLoopback)
        #expect(config.server.adminAllowPlaintext == false)
    }

    @Test("beyond loopback without tls is refused, naming the key that allows it", arguments: [
        ":7600", "0.0.0.0:7600", "10.0.0.5:7600", "[::]:7600", "kernel.example:7600", "128.0.0.1:7600",
    ])
    func refused(listen: String) throws {
        let issues = Fixture.issues(Fixture.yaml(["server": ["listen: \"\(listen)\""]]))
        let issue = try #require(Fixture.issue(at: "server.listen", in: issues))
        #expect(issue.message.contains("server.admin_allow_plaintext: true"), "\(issue.message)")
        #expect(issue.message.contains("server.tls"))
        #expect(issues.count == 1)
    }

    @Test("admin_allow_plaintext: true lets a plain listener bind every interface")
    func allowed() throws {
        let config = try Fixture.parse(Fixture.yaml(["server": ["listen: \":7600\"", "admin_allow_plaintext: true"]]))
        #expect(config.server.listen == HostPort(host: "", port: 7600))
        #expect(config.server.adminAllowPlaintext)
    }

    @Test("with tls the listener may bind every interface")
    func tls() throws {
        let config = try Fixture.parse(Fixture.yaml([
            "server": ["listen: \":7600\"", "tls: {cert_file: c.pem, key_file: k.pem, client_ca_file: ca.pem}"],
            "auth": ["admin_ssh_ca: ./admin.pub"],
        ]))
        #expect(config.server.tls != nil)
        #expect(config.server.adminAllowPlaintext == false)
    }

    @Test("a non-boolean allowance is reported together with the listener it fails to allow")
    func badValue() throws {
        let issues = Fixture.issues(Fixture.yaml(["server": ["listen: \":7600\"", "admin_allow_plaintext: sometimes"]]))
        #expect(Fixture.issue(at: "server.admin_allow_plaintext", in: issues) != nil)
        #expect(Fixture.issue(at: "server.listen", in: issues) != nil)
    }
}
