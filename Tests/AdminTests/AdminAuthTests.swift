import Foundation
import KernelAdmin
import KernelAuth
import Testing

/// Every `/auth*` refusal (docs/admin.md, "Admin authentication") answers 401 with an empty body.
@Suite(.serialized) struct AdminAuthTests {
    /// A raw, unsigned client: headers are passed by hand.
    func raw(_ h: AdminHarness) -> AdminClient { AdminClient(baseURL: h.baseURL, signer: nil) }

    func expect401(_ response: AdminClient.Response, _ comment: Comment) {
        #expect(response.status == 401, comment)
        #expect(response.body.isEmpty, comment)
    }

    /// `kernel_admin_denied_total` of each reason named, as the metrics render now.
    func expectDenied(_ h: AdminHarness, _ counts: [String: Double],
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let parsed = try PrometheusText(h.metrics.render())
        for (reason, count) in counts {
            #expect(parsed.value("kernel_admin_denied_total", ["reason": reason]) == count, "\(reason)",
                    sourceLocation: sourceLocation)
        }
    }

    /// `headers` with the value of `name` replaced by `value`.
    func replacing(_ name: String, with value: String, in headers: [(String, String)]) -> [(String, String)] {
        headers.filter { $0.0 != name } + [(name, value)]
    }

    @Test func validAdminIsServed() async throws {
        let h = try AdminHarness()
        try await h.start()
        let response = try await h.client().send(method: "GET", path: "/auth", query: "filter=pending")
        #expect(response.status == 200)
        #expect(response.text == "[]")
        // X-SSH-Principal naming the configured principal is accepted too.
        let withPrincipal = try await h.client(principal: h.principal).send(method: "GET", path: "/auth")
        #expect(withPrincipal.status == 200)
        await h.tearDown()
    }

    @Test func refusedWithoutHeadersOrWithWrongMethod() async throws {
        let h = try AdminHarness()
        try await h.start()
        expect401(try await raw(h).send(method: "GET", path: "/auth"), "no headers")
        expect401(try await raw(h).send(method: "POST", path: "/auth/revoke", body: Array(#"{"jti":"x"}"#.utf8)), "no headers POST")
        // Only the nonce header: still missing the cert and signature.
        expect401(try await raw(h).send(method: "GET", path: "/auth", extraHeaders: [("X-Admin-Nonce", "abc")]), "nonce only")
        // A valid signature for the wrong method: GET /auth/review.
        expect401(try await h.client().send(method: "GET", path: "/auth/review"), "wrong method")
        expect401(try await h.client().send(method: "DELETE", path: "/auth"), "DELETE")
        try expectDenied(h, ["missing_auth_headers": 3, "method_not_allowed": 2])
        await h.tearDown()
    }

    @Test func refusedCertificates() async throws {
        let h = try AdminHarness()
        // Expired (validity in 2020), signed by another CA, by the producer CA, wrong principal,
        // a host certificate, an unsupported critical option.
        try h.keygen("expired"); try h.sign("expired", ca: "admin_ca", principals: h.principal, validity: "20200101:20200102")
        try h.keygen("otherca"); try h.sign("otherca", ca: "other_ca", principals: h.principal)
        try h.keygen("producer"); try h.sign("producer", ca: "producer_ca", principals: h.principal)
        try h.keygen("someone"); try h.sign("someone", ca: "admin_ca", principals: "someone-else")
        try h.keygen("forced"); try h.sign("forced", ca: "admin_ca", principals: h.principal, options: ["force-command=/bin/true"])
        try h.keygen("elsewhere"); try h.sign("elsewhere", ca: "admin_ca", principals: h.principal, options: ["source-address=10.9.9.0/24"])
        try h.keygen("here"); try h.sign("here", ca: "admin_ca", principals: h.principal, options: ["source-address=10.0.0.0/8,127.0.0.1/32"])
        try await h.start()
        for name in ["expired", "otherca", "producer", "someone", "forced", "elsewhere"] {
            expect401(try await h.client(name).send(method: "GET", path: "/auth"), "\(name)")
        }
        // source-address including 127.0.0.1 is honoured.
        #expect(try await h.client("here").send(method: "GET", path: "/auth").status == 200)
        // A plain public key (not a certificate) in X-SSH-Cert.
        let plain = try String(contentsOfFile: h.dir + "/admin.pub", encoding: .utf8)
        let signer = AdminRequestSigner(key: try Ed25519PrivateKey(openSSHFile: h.dir + "/admin"), certificateLine: plain)
        expect401(try await AdminClient(baseURL: h.baseURL, signer: signer).send(method: "GET", path: "/auth"), "plain key")
        try expectDenied(h, ["certificate_refused": 6, "source_address_mismatch": 1])
        await h.tearDown()
    }

    @Test func refusedPrincipalHeader() async throws {
        let h = try AdminHarness()
        try h.keygen("multi"); try h.sign("multi", ca: "admin_ca", principals: "\(h.principal),ops")
        try await h.start()
        // Not among the certificate's principals.
        expect401(try await h.client(principal: "root").send(method: "GET", path: "/auth"), "root")
        // Among them, but not auth.admin_principal.
        expect401(try await h.client("multi", principal: "ops").send(method: "GET", path: "/auth"), "ops")
        #expect(try await h.client("multi", principal: h.principal).send(method: "GET", path: "/auth").status == 200)
        await h.tearDown()
    }

    @Test func refusedTamperedBodyPathReplayAndBadSignature() async throws {
        let h = try AdminHarness()
        try await h.start()
        let signer = try h.signer()
        let body = Array(#"{"jti":"01HZZZZZZZZZZZZZZZZZZZZZZZ","reason":"test"}"#.utf8)

        // Tampered body: signed one body, sent another.
        let signedForBody = signer.headers(method: "POST", path: "/auth/revoke", body: body)
        let otherBody = Array(#"{"jti":"01HAAAAAAAAAAAAAAAAAAAAAAA","reason":"test"}"#.utf8)
        expect401(try await raw(h).send(method: "POST", path: "/auth/revoke", body: otherBody, extraHeaders: signedForBody), "body")

        // Tampered path: signed for /auth/revoke, sent to /auth/review.
        let signedForPath = signer.headers(method: "POST", path: "/auth/revoke", body: body)
        expect401(try await raw(h).send(method: "POST", path: "/auth/review", body: body, extraHeaders: signedForPath), "path")

        // Bad signature: 64 random bytes.
        let bad = replacing("X-Admin-Signature", with: Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
                            in: signer.headers(method: "GET", path: "/auth", body: []))
        expect401(try await raw(h).send(method: "GET", path: "/auth", extraHeaders: bad), "bad signature")
        // Not base64 / wrong length.
        let short = replacing("X-Admin-Signature", with: "AAAA", in: signer.headers(method: "GET", path: "/auth", body: []))
        expect401(try await raw(h).send(method: "GET", path: "/auth", extraHeaders: short), "short signature")

        // Replay: the same signed request twice.
        let once = signer.headers(method: "GET", path: "/auth", body: [])
        #expect(try await raw(h).send(method: "GET", path: "/auth", extraHeaders: once).status == 200)
        expect401(try await raw(h).send(method: "GET", path: "/auth", extraHeaders: once), "replay")
        let ttl = try h.redis.command(["TTL", h.prefix + "admin:nonce:" + once.first { $0.0 == "X-Admin-Nonce" }!.1]).integer ?? -2
        #expect(ttl > 0 && ttl <= 300)

        // The query string is not signed (docs/admin.md, "Signing string"): a signed GET /auth with another query passes.
        #expect(try await h.client().send(method: "GET", path: "/auth", query: "filter=all").status == 200)

        let parsed = try PrometheusText(h.metrics.render())
        #expect(parsed.value("kernel_admin_signature_invalid_total") == 4)
        #expect(parsed.value("kernel_admin_replay_total") == 1)
        await h.tearDown()
    }

    @Test func hostileRequests() async throws {
        let h = try AdminHarness()
        try await h.start()
        let signer = try h.signer()
        // Garbage in the certificate header, with an otherwise well-formed request.
        for garbage in ["x", "ssh-ed25519-cert-v01@openssh.com !!!!", "ssh-ed25519-cert-v01@openssh.com AAAA",
                        String(repeating: "A", count: 6000), "ssh-ed25519-cert-v01@openssh.com " + Data(repeating: 0, count: 300).base64EncodedString()] {
            let headers = replacing("X-SSH-Cert", with: garbage, in: signer.headers(method: "GET", path: "/auth", body: []))
            expect401(try await raw(h).send(method: "GET", path: "/auth", extraHeaders: headers), "cert \(garbage.prefix(40))")
        }
        // URL-safe base64 of a valid signature is refused (docs/protocol.md, "Signing strings and signatures": standard alphabet only).
        let signed = signer.headers(method: "GET", path: "/auth", body: [])
        let signature = signed.first { $0.0 == "X-Admin-Signature" }!.1
        let converted = signature.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        if converted != signature {
            let urlSafe = replacing("X-Admin-Signature", with: converted, in: signed)
            expect401(try await raw(h).send(method: "GET", path: "/auth", extraHeaders: urlSafe), "url-safe signature")
        }
        // A long nonce is just a nonce; a body over 64 KiB is refused before any check.
        let longNonce = signer.headers(method: "GET", path: "/auth", body: [], nonce: String(repeating: "n", count: 4000))
        #expect(try await raw(h).send(method: "GET", path: "/auth", extraHeaders: longNonce).status == 200)
        let big = Array(repeating: UInt8(ascii: " "), count: 70_000)
        expect401(try await h.client().send(method: "POST", path: "/auth/revoke", body: big), "big body")
        // A signed body that is not JSON reaches the handler: 400, not a crash.
        let notJSON: [UInt8] = [0xff, 0xfe, 0x00, 0x7b]
        #expect(try await h.client().send(method: "POST", path: "/auth/revoke", body: notJSON).status == 400)
        // HEAD on the health paths.
        #expect(try await raw(h).send(method: "HEAD", path: "/healthz").status == 200)
        #expect(try await raw(h).send(method: "GET", path: "/healthz").text == "ok")
        await h.tearDown()
    }

    @Test func refusedWhenTheAdminCAIsUnusable() async throws {
        let h = try AdminHarness()
        // A bogus CA must not stop start-up (docs/operations.md, "Start-up"); it refuses everything.
        try await h.start(config: h.config(adminCA: "not a key"))
        expect401(try await h.client().send(method: "GET", path: "/auth"), "bogus CA")
        #expect(try await raw(h).send(method: "GET", path: "/healthz").status == 200)
        await h.tearDown()
    }

    @Test func refusedWhenRedisIsDownForTheNonce() async throws {
        let h = try AdminHarness()
        var config = h.config()
        config.redis.addr.port = 1   // nothing listens: the nonce cannot be recorded → deny
        try await h.start(config: config)
        expect401(try await h.client().send(method: "GET", path: "/auth"), "redis down")
        try expectDenied(h, ["nonce_store_unavailable": 1])
        await h.tearDown()
    }
}
