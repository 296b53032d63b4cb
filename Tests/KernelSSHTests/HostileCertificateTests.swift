import Foundation
import KernelTestSupport
import Testing
@testable import KernelSSH

/// Hostile inputs: every one must be refused with a reason, none may crash or be accepted.
/// These loops are bounded so they run with the unit tests; the body of each (`check` on bytes) is
/// what a libFuzzer target would call (see docs/protocol.md).
@Suite("Hostile certificates")
struct HostileCertificateTests {
    let f = Fixture.shared
    let now: Int64 = 1_800_000_000

    func policy() -> CertificatePolicy { .producer(caKey: f.caKey("ed25519")) }

    @Test("every single-byte change of the blob is refused", arguments: ["ed25519", "ecdsa384", "rsa3072"])
    func flipEveryByte(_ ca: String) throws {
        let line = try #require(f.material.certify(f.user, ca: f.cas[ca]!, validity: "always:forever",
                                                   signatureAlgorithm: ca == "rsa3072" ? "rsa-sha2-512" : nil,
                                                   name: "flip-\(ca)"))
        let policy = CertificatePolicy.producer(caKey: f.caKey(ca))
        #expect(policy.check(certLine: line, now: now).failureReason == nil)
        let (type, blob, rest) = splitLine(line)
        var reasons: [CertificateError.Reason: Int] = [:]
        for i in blob.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var tampered = blob
                tampered[i] ^= mask
                let reason = policy.check(certLine: joinLine(type, tampered, rest), now: now).failureReason
                #expect(reason != nil, "byte \(i) ^ \(mask) accepted")
                if let reason { reasons[reason, default: 0] += 1 }
            }
        }
        #expect(reasons[.badCASignature, default: 0] > 0)
        #expect(reasons[.malformed, default: 0] > 0)
    }

    @Test("every truncation and every extension of the blob is refused")
    func truncations() throws {
        let line = f.basicCert(name: "truncate")
        let (type, blob, _) = splitLine(line)
        for length in 0..<blob.count {
            let reason = policy().check(certLine: joinLine(type, Array(blob[0..<length])), now: now).failureReason
            #expect(reason == .malformed, "length \(length): \(String(describing: reason))")
        }
        for extra in [[0], [0, 0, 0, 0], [0, 0, 0, 1, 0x41]] as [[UInt8]] {
            #expect(policy().check(certLine: joinLine(type, blob + extra), now: now).failureReason == .malformed)
        }
    }

    @Test("huge length fields at every position are refused without allocating")
    func hugeLengths() throws {
        let (type, blob, _) = splitLine(f.basicCert(name: "huge"))
        for position in 0..<(blob.count - 4) {
            for value: [UInt8] in [[0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0x00, 0x10, 0x00, 0x00]] {
                var tampered = blob
                tampered.replaceSubrange(position..<(position + 4), with: value)
                // Inside valid_before (already all 0xFF) the write can be a no-op.
                if tampered == blob { continue }
                #expect(policy().check(certLine: joinLine(type, tampered), now: now).failureReason != nil)
            }
        }
    }

    @Test("a certificate built by hand with every field checked")
    func handBuilt() throws {
        // Re-encode a real certificate field by field: proves the parser reads the layout of
        // PROTOCOL.certkeys, and lets us vary single fields.
        let (type, blob, _) = splitLine(f.basicCert(name: "handbuilt"))
        let cert = try SSHCertificate.parse(wire: blob)
        #expect(cert.typeName == "ssh-ed25519-cert-v01@openssh.com")
        #expect(cert.nonce.count == 32)
        #expect(cert.serial == 7)
        #expect(cert.keyID == "test-id")
        #expect(cert.principals == ["producer"])
        #expect(cert.criticalOptions.isEmpty)
        #expect(cert.extensions.map(\.name) == ["permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
                                                "permit-pty", "permit-user-rc"])
        #expect(cert.signatureKeyWire == f.caKey("ed25519").wireEncoding)
        #expect(Array(blob[0..<cert.signedBytes.count]) == cert.signedBytes)
        // Unknown cert type number is malformed (OpenSSH refuses it at parse time too).
        var w = SSHWireWriter()
        w.writeString(type)
        w.writeString(cert.nonce)
        w.writeString(cert.certifiedKey.ed25519Bytes!)
        var tail = SSHWireWriter()
        tail.writeUInt32(3)
        let serialBytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 7]
        let bad = w.bytes + serialBytes + tail.bytes + Array(blob[(w.bytes.count + 12)...])
        #expect(policy().check(certLine: joinLine(type, bad), now: now).failureReason == .malformed)
    }

    @Test("garbage lines of every shape are refused")
    func garbage() {
        let cases = [
            "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519-cert-v01@openssh.com ", "ssh-ed25519-cert-v01@openssh.com A",
            "ssh-ed25519-cert-v01@openssh.com AA==", "ssh-ed25519-cert-v01@openssh.com AAAAAA==",
            "ssh-ed25519-cert-v01@openssh.com ////", "ssh-ed25519-cert-v01@openssh.com AAAAIA==",
            "\u{0}", "ssh-ed25519-cert-v01@openssh.com\u{0} AAAA", "x\ty\tz", "ssh-ed25519 AAAA", "ssh-rsa AAAA",
            String(repeating: "ssh-ed25519-cert-v01@openssh.com ", count: 1000),
        ]
        for text in cases {
            #expect(policy().check(certLine: text, now: now).failureReason != nil, "\(text.prefix(60))")
        }
    }

    @Test("fuzz: a few thousand mutated certificates never crash and are never accepted")
    func fuzz() throws {
        let seeds = [
            f.basicCert(name: "fuzz-a"),
            f.basicCert(name: "fuzz-b", principals: ["a", "b", "c"], options: ["source-address=10.0.0.1"]),
        ].map(splitLine)
        var rng = SplitMix64(seed: 0xC0FFEE)
        var refused = 0
        for _ in 0..<4000 {
            let seed = seeds[Int(rng.next() % UInt64(seeds.count))]
            var blob = seed.blob
            for _ in 0...(rng.next() % 4) {
                let position = Int(rng.next() % UInt64(blob.count + 1))
                switch rng.next() % 6 {
                case 0: blob.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
                case 1: if position < blob.count { blob.remove(at: position) }
                case 2: blob = Array(blob.prefix(position))
                case 3:
                    // A length-like big-endian word.
                    if position + 4 <= blob.count {
                        let v = UInt32(truncatingIfNeeded: rng.next() % 3 == 0 ? rng.next() : rng.next() % 512)
                        blob.replaceSubrange(position..<(position + 4),
                                             with: [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)])
                    }
                default: if position < blob.count { blob[position] = UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
            let result = policy().check(certLine: joinLine(seed.type, blob), now: now)
            if blob == seed.blob { continue }
            #expect(result.failureReason != nil)
            refused += 1
            // Parsing alone must never trap either.
            _ = try? SSHCertificate.parse(wire: blob)
            _ = try? SSHPublicKey.parse(wire: blob)
        }
        #expect(refused > 3000)
    }
}
