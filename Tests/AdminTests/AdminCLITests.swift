import Foundation
@testable import KernelAdmin
import KernelJSON
import Testing

/// `kernel admin …` drives a running AdminServer: through `AdminCommandCore` always, and through
/// the built binary when DK_KERNEL_BIN names it.
@Suite(.serialized) struct AdminCLITests {
    @Test func approveAndRevokeThroughTheCommandCore() async throws {
        let h = try AdminHarness()
        let fp = AdminHarness.uniqueFingerprint()
        let producer = try h.seedProducer(name: "cli-producer", fingerprint: fp, nonce: "cli-nonce")
        _ = try h.pg.query("INSERT INTO producer_tokens (producer_id, jti, expires_at) VALUES ($1::uuid, 'CLI-JTI', now() + interval '1 hour')",
                           [producer])
        try await h.start()
        let core = AdminCommandCore(client: try h.client())

        let pending = try await core.pending()
        #expect(pending.success)
        #expect(pending.table.hasPrefix("FINGERPRINT"))
        #expect(pending.table.contains(fp))

        let approved = try await core.approve(producerID: producer, fingerprint: fp, notes: "via cli")
        #expect(approved.success)
        #expect(approved.table.contains("new_producer"))
        #expect(try h.keyRow(fp)["status"] == "approved")
        #expect((try h.redis.command(["XLEN", h.prefix + "register:resp:cli-nonce"]).integer ?? 0) == 1)

        let revoked = try await core.revoke(jti: "CLI-JTI", reason: "rotated")
        #expect(revoked.status == 204)
        #expect(try h.pg.query("SELECT reason FROM revoked_tokens WHERE jti = 'CLI-JTI'").scalar == "rotated")

        let producers = try await core.producers(filter: "all", long: true)
        #expect(producers.success)
        #expect(producers.table.contains("revoked"))   // token_status of the newest token
        let denied = try await core.deny(producerID: producer, fingerprint: fp, reason: "gone")
        #expect(denied.success)
        #expect(try h.keyRow(fp)["status"] == "revoked")

        // A refused command reports the status.
        let stranger = AdminCommandCore(client: AdminClient(baseURL: h.baseURL, signer: nil))
        let refused = try await stranger.pending()
        #expect(refused.status == 401 && !refused.success)
        await h.tearDown()
    }

    @Test func theKernelBinaryApprovesAndRevokes() async throws {
        guard let binary = ProcessInfo.processInfo.environment["DK_KERNEL_BIN"], FileManager.default.isExecutableFile(atPath: binary) else {
            return   // covered by approveAndRevokeThroughTheCommandCore; this one needs the built binary
        }
        let h = try AdminHarness()
        defer { Task { await h.tearDown() } }
        guard let help = try? h.run(binary, ["--help"]), help.contains("\n  admin ") else {
            Issue.record("\(binary) has no `admin` subcommand: add AdminCommand.self to the subcommands in Sources/kernel/Kernel.swift")
            return
        }
        let fp = AdminHarness.uniqueFingerprint()
        let producer = try h.seedProducer(name: "bin-producer", fingerprint: fp, nonce: "bin-nonce")
        _ = try h.pg.query("INSERT INTO producer_tokens (producer_id, jti, expires_at) VALUES ($1::uuid, 'BIN-JTI', now() + interval '1 hour')",
                           [producer])
        let server = try await h.start()
        let common = ["--url", "http://127.0.0.1:\(server.boundPort!)", "--key", h.dir + "/admin"]
        let out = try h.run(binary, ["admin", "approve"] + common + ["--producer", producer, "--fingerprint", fp, "--json"])
        let json = try JSONParser.parse(out.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["status"]?.stringValue == "approved")
        #expect(try h.keyRow(fp)["status"] == "approved")
        _ = try h.run(binary, ["admin", "revoke"] + common + ["--jti", "BIN-JTI", "--reason", "cli"])
        #expect(try h.pg.query("SELECT count(*) FROM revoked_tokens WHERE jti = 'BIN-JTI'").scalar == "1")
        // Refused credentials exit non-zero.
        try h.keygen("stranger"); try h.sign("stranger", ca: "other_ca", principals: h.principal)
        #expect(throws: HarnessError.self) {
            try h.run(binary, ["admin", "pending", "--url", "http://127.0.0.1:\(server.boundPort!)", "--key", h.dir + "/stranger"])
        }
    }

    @Test func tableRendering() {
        let rows: JSONValue = .array([
            .object(JSONObject([("producer_id", .string("p1")), ("name", .string("alpha")), ("description", .null)])),
            .object(JSONObject([("producer_id", .string("p22")), ("name", .string("b")), ("extra", .number("3"))])),
        ])
        let table = AdminCommandCore.render(rows)
        #expect(table == """
            PRODUCER_ID  NAME   DESCRIPTION  EXTRA
            p1           alpha  -            -
            p22          b      -            3

            """)
        #expect(AdminCommandCore.render(.array([])) == "(none)\n")
        #expect(AdminCommandCore.render(.object(JSONObject([("a", .string("x")), ("bbb", .bool(true))]))) == "a:   x\nbbb: true\n")
        #expect(AdminCommandCore.queryEscape("a b&c") == "a%20b%26c")
    }

    @Test func baseURLParsing() {
        #expect(AdminClient.BaseURL("http://127.0.0.1:7600") == AdminClient.BaseURL("http://127.0.0.1:7600/ignored"))
        #expect(AdminClient.BaseURL("https://admin.example")?.port == 443)
        #expect(AdminClient.BaseURL("http://[::1]:81")?.host == "::1")
        #expect(AdminClient.BaseURL("http://:7600")?.host == "127.0.0.1")
        for bad in ["ftp://x", "127.0.0.1:7600", "http://x:0", "http://x:99999", "http://[::1", "http://x:port"] {
            #expect(AdminClient.BaseURL(bad) == nil, "\(bad)")
        }
    }

    @Test func signerMatchesTheSigningString() throws {
        let h = try AdminHarness()
        let signer = try h.signer()
        let headers = Dictionary(uniqueKeysWithValues: signer.headers(method: "post", path: "/auth/revoke",
                                                                       body: Array(#"{"b":1,"a":"<"}"#.utf8), nonce: "n1"))
        #expect(headers["X-Admin-Nonce"] == "n1")
        #expect(headers["X-SSH-Cert"]?.hasPrefix("ssh-ed25519-cert-v01@openssh.com ") == true)
        let nonce = AdminRequestSigner.makeNonce()
        #expect(nonce.count == 32 && nonce.allSatisfy { $0.isHexDigit })
        #expect(AdminRequestSigner.base64([1, 2, 3, 4]) == Data([1, 2, 3, 4]).base64EncodedString())
        #expect(AdminRequestSigner.base64([]) == "")
        #expect(AdminRequestSigner.base64([0xff, 0xfe]) == Data([0xff, 0xfe]).base64EncodedString())
        Task { await h.tearDown() }
    }
}

@Suite struct SourceAddressTests {
    @Test func cidrMatching() {
        #expect(SourceAddress.allows(list: "127.0.0.1", peer: "127.0.0.1"))
        #expect(SourceAddress.allows(list: "10.0.0.0/8, 192.168.1.0/24", peer: "192.168.1.77"))
        #expect(!SourceAddress.allows(list: "10.0.0.0/8,192.168.1.0/24", peer: "192.168.2.1"))
        #expect(SourceAddress.allows(list: "0.0.0.0/0", peer: "8.8.8.8"))
        #expect(SourceAddress.allows(list: "::1", peer: "::1"))
        #expect(SourceAddress.allows(list: "2001:db8::/32", peer: "2001:db8:1::5"))
        #expect(!SourceAddress.allows(list: "2001:db8::/32", peer: "2001:db9::5"))
        #expect(SourceAddress.allows(list: "127.0.0.0/8", peer: "::ffff:127.0.0.9"))
        #expect(SourceAddress.allows(list: "10.1.2.3/31", peer: "10.1.2.2"))
        // Hostile or malformed entries match nothing.
        for list in ["", ",", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "host.example", "10.0.0.0/8/8", "1.2.3.4/x", "::/129"] {
            #expect(!SourceAddress.allows(list: list, peer: "10.0.0.1"), "\(list)")
        }
        #expect(!SourceAddress.allows(list: "0.0.0.0/0", peer: "not an ip"))
        #expect(!SourceAddress.allows(list: "0.0.0.0/0", peer: ""))
    }
}
