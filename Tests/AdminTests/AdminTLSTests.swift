import Foundation
import KernelAdmin
import KernelConfig
import Testing

/// `server.tls`: HTTPS, TLS ≥ 1.2, client certificates required and verified (docs/admin.md, "TLS").
@Suite(.serialized) struct AdminTLSTests {
    /// A throwaway CA, a server certificate for 127.0.0.1 and two client certificates.
    func makePKI(_ h: AdminHarness) throws {
        let d = h.dir
        let openssl = "/usr/bin/openssl"
        try h.run(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                            "-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "1", "-subj", "/CN=admin-test-ca"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".write(toFile: d + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: d + "/client.ext", atomically: true, encoding: .utf8)
        for (name, cn, ext) in [("server", "localhost", "server.ext"), ("client", "ops-admin", "client.ext"), ("intruder", "intruder", "client.ext")] {
            try h.run(openssl, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                "-keyout", "\(d)/\(name).key", "-out", "\(d)/\(name).csr", "-subj", "/CN=\(cn)"])
            try h.run(openssl, ["x509", "-req", "-in", "\(d)/\(name).csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
                                "-CAcreateserial", "-out", "\(d)/\(name).pem", "-days", "1", "-extfile", "\(d)/\(ext)"])
        }
        // A client certificate from a CA the server does not trust.
        try h.run(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                            "-keyout", d + "/rogue.key", "-out", d + "/rogue.pem", "-days", "1", "-subj", "/CN=ops-admin"])
    }

    @Test func clientCertificatesAreRequired() async throws {
        let h = try AdminHarness()
        try makePKI(h)
        let d = h.dir
        var config = h.config(tls: KernelConfig.TLS(certFile: d + "/server.pem", keyFile: d + "/server.key", clientCAFile: d + "/ca.pem"))
        config.auth.adminAllowedSubjects = ["OPS-ADMIN "]
        let server = try await h.start(config: config)
        let url = AdminClient.BaseURL("https://127.0.0.1:\(server.boundPort!)")!
        let anonymous = AdminClient(baseURL: url, signer: nil, tls: .init(caFile: d + "/ca.pem"))
        let withCert = AdminClient(baseURL: url, signer: try h.signer(),
                                   tls: .init(caFile: d + "/ca.pem", certFile: d + "/client.pem", keyFile: d + "/client.key"))

        // No client certificate: refused on every path, /metrics and /healthz included.
        for path in ["/healthz", "/metrics", "/auth"] {
            let response = try await anonymous.send(method: "GET", path: path)
            #expect(response.status == 401, "\(path)")
            #expect(response.body.isEmpty)
        }
        #expect(try PrometheusText(h.metrics.render()).value("kernel_admin_mtls_denied_total") == 3)

        // A client certificate from an untrusted CA fails the handshake.
        let rogue = AdminClient(baseURL: url, signer: nil, tls: .init(caFile: d + "/ca.pem", certFile: d + "/rogue.pem", keyFile: d + "/rogue.key"))
        await #expect(throws: (any Error).self) { _ = try await rogue.send(method: "GET", path: "/healthz") }

        // With a trusted client certificate.
        #expect(try await withCert.send(method: "GET", path: "/healthz").text == "ok")
        #expect(try await withCert.send(method: "GET", path: "/auth").status == 200)

        // Trusted, but its CN is not in auth.admin_allowed_subjects.
        let intruder = AdminClient(baseURL: url, signer: try h.signer(),
                                   tls: .init(caFile: d + "/ca.pem", certFile: d + "/intruder.pem", keyFile: d + "/intruder.key"))
        #expect(try await intruder.send(method: "GET", path: "/auth").status == 401)
        #expect(try await intruder.send(method: "GET", path: "/healthz").status == 200)

        // Plain HTTP to the TLS port is not served.
        let plain = AdminClient(baseURL: AdminClient.BaseURL("http://127.0.0.1:\(server.boundPort!)")!, signer: nil, timeoutSeconds: 3)
        let plainResult = try? await plain.send(method: "GET", path: "/healthz")
        #expect(plainResult?.status != 200)
        await h.tearDown()
    }

    @Test func badTLSFilesFailStart() async throws {
        let h = try AdminHarness()
        let config = h.config(tls: KernelConfig.TLS(certFile: h.dir + "/missing.pem", keyFile: h.dir + "/missing.key",
                                                    clientCAFile: h.dir + "/missing-ca.pem"))
        await #expect(throws: AdminServerError.self) { try await h.start(config: config) }
        await h.tearDown()
    }
}
