import KernelAuth
import KernelSSH

/// `cert`: OpenSSH certificate lines through `CertificatePolicy.check` (authorized_keys syntax,
/// strict base64, the certificate blob, the CA signature, the authority checks) and the
/// fingerprint, plus the plain public-key line parsers that read the same format.
///
/// Mutations work on the decoded blob (`CertBlob`): field contents, integer fields, lying
/// length fields (0, 2^32−1, ±1, …), duplicated/removed/swapped fields, other type names,
/// principal and option lists, certified-key and signature internals; half of the mutated
/// blobs signed by the Ed25519 test CA are re-signed so they reach the checks behind the
/// signature. Raw text mutations of the whole line are mixed in.
///
/// Properties: never crashes; an accepted certificate was really signed by the policy's CA
/// (checked independently for the Ed25519 CA; for the others its signed body must be a seed's,
/// since the fuzzer cannot re-sign for them), is inside its validity window, of the required
/// type, has only allowed critical options, matching principals and an Ed25519 certified key,
/// and reads as the fuzzer's own decoding reads it; a blob `SSHCertificate.parse` accepts
/// re-encodes to exactly its bytes; fingerprints are 88-character base64 of 64 bytes and equal
/// for the same key however it was parsed; the two plain-key line parsers agree when both accept.
final class CertTarget: FuzzTarget {
    let name = "cert"
    let seeds: [[UInt8]]
    /// Inside every seed's 2025–2035 window (2025-11-25T22:47:04Z).
    static let now: Int64 = 1_764_110_824

    private let caKeys: [SSHPublicKey]
    private let caSigner: Ed25519PrivateKey
    private let caSignerWire: [UInt8]
    private let caSignerPublic: Ed25519PublicKey
    private var originalBodies: Set<[UInt8]> = []
    private let bytes = ByteMutator(dictionary: tokens([
        "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
        "ssh-ed25519", "ecdsa-sha2-nistp384", "ssh-rsa", "rsa-sha2-256", "rsa-sha2-512", "nistp256", "nistp521",
        "sk-ssh-ed25519-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com", "-cert-v00@openssh.com", "AAAA", "==", "=",
        " ", "\t", "\r\n", "\n", "#", "source-address", "force-command", "permit-pty", "cert-authority ",
    ]), maxLength: 80 * 1024)

    static let typeNames = [
        "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com", "ssh-ed25519", "ssh-rsa",
        "ssh-dss-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519-cert-v00@openssh.com",
        "SSH-ED25519-CERT-V01@OPENSSH.COM", "", "ssh-ed25519-cert-v01@openssh.com\u{0}",
    ]
    static let times: [UInt64] = [0, 1, UInt64(now) - 1, UInt64(now), UInt64(now) + 1, UInt64(now) - 60, UInt64(now) + 60,
                                  1 << 63, (1 << 63) - 1, UInt64.max, UInt64.max - 1, 1_735_689_600, 2_051_222_400]

    init(corpusDir: String) throws(FuzzSetupError) {
        let names = Files.list(corpusDir) ?? []
        var seeds: [[UInt8]] = []
        var cas: [SSHPublicKey] = []
        for name in names where name.hasSuffix(".pub") {
            guard let text = Files.read(corpusDir + "/" + name) else { continue }
            seeds.append(text)
            if name.hasPrefix("ca-"), case .success(let key) = SSHPublicKey.load(configValue: String(decoding: text, as: UTF8.self)) {
                cas.append(key)
            }
        }
        guard !seeds.isEmpty, !cas.isEmpty, let keyText = Files.read(corpusDir + "/ca-ed25519.key") else {
            throw FuzzSetupError("cert: no certificates, CA keys or ca-ed25519.key in \(corpusDir) "
                                 + "(run from the repository root, or Tests/Fixtures/fuzz/cert/generate.sh)")
        }
        do {
            caSigner = try Ed25519PrivateKey(openSSHFileText: String(decoding: keyText, as: UTF8.self))
        } catch {
            throw FuzzSetupError("cert: ca-ed25519.key: \(error)")
        }
        caSignerPublic = caSigner.publicKey
        caSignerWire = WireWriter.strings([Array("ssh-ed25519".utf8), caSigner.publicKey.rawRepresentation])
        caKeys = cas
        self.seeds = seeds
        for seed in seeds {
            if let blob = Self.blob(of: seed), let cert = CertBlob.decode(blob) { originalBodies.insert(cert.body) }
        }
    }

    /// The decoded base64 of a line's second field (lenient: the mutator must see through bad spellings).
    static func blob(of line: [UInt8]) -> [UInt8]? {
        let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
        guard words.count >= 2 else { return nil }
        return Base64Codec.decodeLenient(words[1])
    }

    // MARK: Mutation

    func mutate(_ base: [UInt8], other: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        guard rng.below(5) != 0, let blob = Self.blob(of: base), var cert = CertBlob.decode(blob) else {
            return bytes.mutate(base, other: other, rng: &rng)
        }
        var lie: (index: Int, length: UInt32)?
        for _ in 0..<rng.smallCount(max: 3) { mutateBlob(&cert, lie: &lie, rng: &rng) }
        // Re-sign what the Ed25519 test CA signed (or now claims to have signed).
        if cert.string(cert.signatureKeyIndex) == caSignerWire, lie == nil, rng.below(2) == 0 {
            let signature = caSigner.sign(cert.body)
            cert.fields[cert.signatureIndex] = .string(WireWriter.strings([Array("ssh-ed25519".utf8), signature]))
        }
        var encoded = Base64Codec.encode(cert.encode(lie: lie), pad: rng.below(6) != 0)
        if rng.oneIn(12) { bytes.mutateOnce(&encoded, other: [], rng: &rng) }
        let words = base.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
        var type = rng.oneIn(10) ? Array(rng.pick(Self.typeNames).utf8) : (cert.string(0) ?? Array(words[0]))
        if type.isEmpty { type = Array(words[0]) }
        var comment = words.count > 2 ? Array(words[2...].joined(separator: [0x20])) : []
        if rng.oneIn(8) { comment = rng.pick(tokens(["", "a b c", "#", "comment\u{7}", "\r", "x\ny", "é", String(repeating: "c", count: 70_000)])) }
        var line = type + rng.pick([[0x20], [0x09], [0x20, 0x20]]) + encoded
        if !comment.isEmpty { line += [0x20] + comment }
        line += rng.pick([[], [0x0A], [0x0D, 0x0A], [0x20], [0x0A, 0x0A]])
        if rng.oneIn(10) { line = rng.pick([[0x20], [0x09], Array("cert-authority ".utf8)]) + line }
        if rng.oneIn(6) { line = bytes.mutate(line, other: other, rng: &rng) }
        return line
    }

    private func mutateBlob(_ cert: inout CertBlob, lie: inout (index: Int, length: UInt32)?, rng: inout FuzzRandom) {
        let layoutKept = cert.fields.count == 2 + cert.keyFields + CertBlob.tail.count && cert.keyFields >= 1
        switch rng.below(14) {
        case 0, 1: // contents of one string field
            let strings = cert.fields.indices.filter { if case .string = cert.fields[$0] { return true }; return false }
            guard let i = strings.isEmpty ? nil : rng.pick(strings), case .string(var s) = cert.fields[i] else { return }
            switch rng.below(4) {
            case 0: s = []
            case 1: s = bytes.mutate(s, other: [], rng: &rng)
            case 2: s += [UInt8](repeating: rng.byte(), count: rng.pick([1, 100, 4096, 40_000]))
            default: if !s.isEmpty { s.removeSubrange(rng.below(s.count)...) }
            }
            cert.fields[i] = .string(s)
        case 2: // integer fields
            let ints = cert.fields.indices.filter { if case .string = cert.fields[$0] { return false }; return true }
            guard !ints.isEmpty else { return }
            let i = rng.pick(ints)
            if case .u32 = cert.fields[i] {
                cert.fields[i] = .u32(rng.pick([0, 1, 2, 3, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x0100_0001]))
            } else {
                cert.fields[i] = .u64(rng.pick(Self.times))
            }
        case 3: // a lying length field
            let strings = cert.fields.indices.filter { if case .string = cert.fields[$0] { return true }; return false }
            guard !strings.isEmpty else { return }
            let i = rng.pick(strings)
            let real = UInt32(truncatingIfNeeded: cert.string(i)?.count ?? 0)
            lie = (i, rng.pick([0, 1, 0xFFFF_FFFF, 0xFFFF_FFFE, 0x7FFF_FFFF, 0x8000_0000, real &+ 1, real &- 1, real &+ 4, 0x0010_0000]))
        case 4: // duplicate, remove or swap fields
            guard cert.fields.count >= 2 else { return }
            let i = rng.below(cert.fields.count), j = rng.below(cert.fields.count)
            switch rng.below(3) {
            case 0: cert.fields.insert(cert.fields[i], at: j)
            case 1: cert.fields.remove(at: i)
            default: cert.fields.swapAt(i, j)
            }
        case 5: // another type name
            cert.fields[0] = .string(Array(rng.pick(Self.typeNames).utf8))
        case 6: // principals
            guard layoutKept else { return }
            var list = WireReader.strings(cert.string(cert.principalsIndex) ?? []) ?? []
            switch rng.below(6) {
            case 0: list.append(Array(rng.pick(["producer", "admin", "", "prod\u{0}ucer", "é", "producer "]).utf8))
            case 1: if !list.isEmpty { list.remove(at: rng.below(list.count)) }
            case 2: list = (0..<rng.pick([256, 257, 1000])).map { Array("p\($0)".utf8) }
            case 3: list.append(rng.pick(ByteMutator.oddUTF8))
            case 4: list = []
            default: if let first = list.first { list.append(first) }
            }
            cert.fields[cert.principalsIndex] = .string(WireWriter.strings(list))
        case 7, 8: // critical options or extensions
            guard layoutKept else { return }
            let index = rng.oneIn(2) ? cert.criticalIndex : cert.extensionsIndex
            var list = WireReader.strings(cert.string(index) ?? []) ?? []
            let names = ["source-address", "force-command", "verify-required", "permit-pty", "no-touch-required",
                         "unknown@example.com", "", "source-address\u{0}", "permit-X11-forwarding"]
            switch rng.below(5) {
            case 0:
                list.append(Array(rng.pick(names).utf8))
                let value = rng.pick(["10.0.0.0/8", "", "/bin/sh", "::1/128,256.1.1.1", "\u{0}"])
                list.append(rng.oneIn(3) ? Array(value.utf8) : WireWriter.strings([Array(value.utf8)]))
            case 1: if list.count >= 2 { list += list[0...1] } // the same name twice
            case 2: list = []
            case 3: list.append(Array(rng.pick(names).utf8)) // a name without data
            default: if !list.isEmpty { list[rng.below(list.count)] = rng.pick(ByteMutator.oddUTF8) }
            }
            cert.fields[index] = .string(WireWriter.strings(list))
        case 9: // the signature key: another CA, a plain key, garbage
            guard cert.fields.count >= 3 else { return }
            let i = cert.signatureKeyIndex
            switch rng.below(4) {
            case 0, 1: cert.fields[i] = .string(rng.pick(caKeys).wireEncoding)
            case 2: cert.fields[i] = .string(caSignerWire)
            default: cert.fields[i] = .string(Array((cert.string(i) ?? []).prefix(rng.below(40))))
            }
        case 10: // the signature blob's inside
            guard let sig = cert.string(cert.signatureIndex), let parts = WireReader.strings(sig), parts.count >= 2 else { return }
            var type = parts[0], raw = parts[1]
            switch rng.below(5) {
            case 0: type = Array(rng.pick(["ssh-rsa", "rsa-sha2-256", "rsa-sha2-512", "ssh-ed25519", "ecdsa-sha2-nistp256",
                                           "ecdsa-sha2-nistp521", "", "ssh-ed25519-cert-v01@openssh.com"]).utf8)
            case 1: raw = Array(raw.prefix(rng.below(raw.count + 1)))
            case 2: raw += [UInt8](repeating: 0, count: rng.pick([1, 64, 600]))
            case 3: // ECDSA (r, s) mpints: zero, negative, with a needless zero byte
                raw = WireWriter.strings([rng.pick([[], [0x00], [0x80], [0x00, 0x01], [0x01]]),
                                          rng.pick([[], [0x00, 0x7F], [0xFF, 0x01], [0x01]])])
            default:
                var extended = parts
                extended.append([0x00])
                cert.fields[cert.signatureIndex] = .string(WireWriter.strings(extended))
                return
            }
            cert.fields[cert.signatureIndex] = .string(WireWriter.strings([type, raw]))
        case 11: // certified key internals
            guard cert.fields.count > 3, case .string(var k) = cert.fields[2] else { return }
            switch rng.below(5) {
            case 0: k = Array(k.prefix(31))
            case 1: k += [0x00]
            case 2: if !k.isEmpty { k[0] = rng.pick([0x02, 0x03, 0x00, 0x04, 0x80]) } // point form / mpint sign
            case 3: if !k.isEmpty { k[k.count - 1] ^= 0x01 } // off-curve point, even exponent
            default: k = rng.pick([[0x01], [0x03], [0x00, 0x01, 0x00, 0x01], [UInt8](repeating: 0xFF, count: 2049)])
            }
            cert.fields[2] = .string(k)
        case 12: // the reserved field and the nonce
            guard layoutKept else { return }
            cert.fields[rng.oneIn(2) ? cert.signatureKeyIndex - 1 : 1] = .string(rng.pick([[], [0x00], Array("reserved".utf8)]))
        default: // validity window and kind, coherently (reaches the time checks once re-signed)
            guard layoutKept else { return }
            cert.fields[cert.validAfterIndex] = .u64(rng.pick(Self.times))
            cert.fields[cert.validBeforeIndex] = .u64(rng.pick(Self.times))
            if rng.oneIn(2) { cert.fields[cert.kindIndex] = .u32(rng.pick([1, 2])) }
        }
    }

    // MARK: Properties

    /// Policy, clock and CA derived from the input, so a replay runs the same check.
    private func setting(for input: [UInt8], sigKey: [UInt8]?) -> (policy: CertificatePolicy, now: Int64) {
        var rng = FuzzRandom(seed: FNV.hash(input))
        let ca = caKeys.first { $0.wireEncoding == sigKey } ?? rng.pick(caKeys)
        let chosenCA: SSHPublicKey? = rng.oneIn(20) ? nil : (rng.oneIn(10) ? rng.pick(caKeys) : ca)
        let skew: UInt64 = rng.pick([0, 0, 60, 3600, UInt64.max])
        let policy: CertificatePolicy
        switch rng.below(6) {
        case 0, 1: policy = .producer(caKey: chosenCA, skewSeconds: skew)
        case 2: policy = .producer(caKey: chosenCA, principals: ["producer", "ops"], skewSeconds: skew)
        case 3: policy = .admin(caKey: chosenCA, principal: rng.oneIn(2) ? "admin" : nil, skewSeconds: skew)
        case 4: policy = CertificatePolicy(caKey: chosenCA, requireType: .host, skewSeconds: skew,
                                           acceptedCertifiedKeys: Set(SSHPublicKey.Algorithm.allCases))
        default: policy = CertificatePolicy(caKey: chosenCA, principals: ["alice"], skewSeconds: skew,
                                            allowedCriticalOptions: ["source-address", "force-command"],
                                            acceptedCertifiedKeys: Set(SSHPublicKey.Algorithm.allCases))
        }
        let now: Int64 = rng.below(4) != 0 ? Self.now
            : rng.pick([0, -1, Int64.max, Int64.min, 1_735_689_600, 2_051_222_400, 2_051_222_401, Self.now + 86_400 * 365 * 20])
        return (policy, now)
    }

    func run(_ input: [UInt8]) -> Verdict {
        let line = String(decoding: input, as: UTF8.self)
        let blob = Self.blob(of: input)
        let model = blob.flatMap(CertBlob.decode)
        let (policy, now) = setting(for: input, sigKey: model?.string(model!.signatureKeyIndex))

        if let problem = checkPlainKeyParsers(line) { return .fail(problem) }
        if let blob, let problem = checkRoundTrip(blob) { return .fail(problem) }

        switch policy.check(certLine: line, now: now) {
        case .failure(let error):
            // A refusal's detail goes into a log line: it must stay bounded whatever the input. The
            // principal list (up to 256 quoted 64-character names) makes ~17 KiB the current worst case.
            if error.detail.utf8.count > 20 * 1024 {
                return .fail("refusal: \(error.detail.utf8.count)-byte detail for \(error.reason.rawValue)")
            }
            return .pass(outcome: error.reason.rawValue)
        case .success(let checked):
            if let problem = checkAccepted(checked, policy: policy, now: now, line: input) {
                return .fail("accepted: \(problem)")
            }
            return .pass(outcome: "accepted")
        }
    }

    private func checkAccepted(_ checked: CheckedCertificate, policy: CertificatePolicy, now: Int64, line: [UInt8]) -> String? {
        let cert = checked.certificate
        guard let caKey = policy.caKey, cert.signatureKeyWire == caKey.wireEncoding else { return "signed by another key than the CA" }
        // The line's own blob, decoded independently, must be what was checked.
        guard let blob = Self.blob(of: line), let model = CertBlob.decode(blob), model.encode() == blob else {
            return "the fuzzer's decoder cannot read an accepted certificate line"
        }
        guard model.string(model.signatureKeyIndex) == caKey.wireEncoding else { return "blob names another signature key" }
        if caKey.wireEncoding == caSignerWire {
            guard let sig = model.string(model.signatureIndex), let parts = WireReader.strings(sig), parts.count == 2,
                  parts[0] == Array("ssh-ed25519".utf8), caSignerPublic.verify(model.body, signature: parts[1]) else {
                return "the Ed25519 CA signature does not verify independently"
            }
        } else if !originalBodies.contains(model.body) {
            return "a modified certificate body passed a \(caKey.algorithm.rawValue) CA signature check"
        }
        // Validity window with the policy's skew (unsigned, saturating).
        let nowU: UInt64 = now < 0 ? 0 : UInt64(now)
        let late = nowU.addingReportingOverflow(policy.skewSeconds)
        let early = nowU >= policy.skewSeconds ? nowU - policy.skewSeconds : 0
        if cert.validAfter != 0, !late.overflow, late.partialValue < cert.validAfter { return "not yet valid (after \(cert.validAfter), now \(now))" }
        if cert.validBefore != 0, cert.validBefore != .max, early > cert.validBefore { return "expired (before \(cert.validBefore), now \(now))" }
        guard cert.kind == policy.requireType else { return "kind \(cert.kind) where \(policy.requireType) is required" }
        if let option = cert.criticalOptions.first(where: { !policy.allowedCriticalOptions.contains($0.name) }) {
            return "critical option \(quote(option.name)) accepted"
        }
        if !policy.principals.isEmpty {
            let bytes = Set(policy.principals.map { Array($0.utf8) })
            guard cert.principals.contains(where: { bytes.contains(Array($0.utf8)) }) else { return "no matching principal in \(cert.principals)" }
        } else if policy.requireCertificatePrincipal, cert.principals.isEmpty {
            return "no principal, but one is required"
        }
        guard policy.acceptedCertifiedKeys.contains(cert.certifiedKey.algorithm) else { return "certified key \(cert.certifiedKey.algorithm)" }
        // The parser and the independent decoding agree on the fields.
        guard case .u64(let serial) = model.fields[model.serialIndex], serial == cert.serial,
              case .u64(let va) = model.fields[model.validAfterIndex], va == cert.validAfter,
              case .u64(let vb) = model.fields[model.validBeforeIndex], vb == cert.validBefore,
              model.string(model.keyIDIndex) == Array(cert.keyID.utf8),
              let principals = WireReader.strings(model.string(model.principalsIndex) ?? []),
              principals == cert.principals.map({ Array($0.utf8) }) else {
            return "fields differ from the independent decoding"
        }
        return checkFingerprint(checked.fingerprint, key: cert.certifiedKey, what: "certified key")
    }

    private func checkFingerprint(_ fingerprint: String, key: SSHPublicKey, what: String) -> String? {
        let text = Array(fingerprint.utf8)
        guard text.count == 88, let raw = Base64Codec.decodeLenient(text), raw.count == 64,
              Base64Codec.encode(raw) == text else {
            return "fingerprint: \(what) fingerprint \(quote(fingerprint)) is not padded base64 of 64 bytes"
        }
        switch Result(catching: { () throws(SSHKeyError) in try SSHPublicKey.parse(wire: key.wireEncoding) }) {
        case .failure(let error): return "fingerprint: the \(what) wire encoding does not re-parse: \(error)"
        case .success(let again) where again.fingerprint != fingerprint:
            return "fingerprint: the \(what) re-parsed from its wire encoding has another fingerprint"
        default: break
        }
        switch Result(catching: { () throws(SSHKeyError) in
            try SSHPublicKey.parse(authorizedKeysLine: key.authorizedKeysLine + " comment\n") }) {
        case .failure(let error): return "fingerprint: the \(what) authorized_keys line does not re-parse: \(error)"
        case .success(let again) where again.fingerprint != fingerprint:
            return "fingerprint: the \(what) re-parsed from its authorized_keys line has another fingerprint"
        default: break
        }
        return nil
    }

    /// A blob `SSHCertificate.parse` accepts must be exactly the encoding of what it read.
    private func checkRoundTrip(_ blob: [UInt8]) -> String? {
        let cert: SSHCertificate
        do {
            cert = try SSHCertificate.parse(wire: blob)
        } catch {
            return nil
        }
        var w = WireWriter()
        w.string(cert.typeName)
        w.string(cert.nonce)
        var keyReader = WireReader(cert.certifiedKey.wireEncoding)
        _ = keyReader.string()
        w.bytes += Array(cert.certifiedKey.wireEncoding[keyReader.offset...])
        w.u64(cert.serial)
        w.u32(cert.kind.rawValue)
        w.string(cert.keyID)
        w.string(WireWriter.strings(cert.principals.map { Array($0.utf8) }))
        w.u64(cert.validAfter)
        w.u64(cert.validBefore)
        w.string(WireWriter.strings(cert.criticalOptions.flatMap { [Array($0.name.utf8), $0.data] }))
        w.string(WireWriter.strings(cert.extensions.flatMap { [Array($0.name.utf8), $0.data] }))
        guard blob.starts(with: w.bytes) else {
            return "round-trip: SSHCertificate.parse accepted a blob that does not re-encode to its own bytes "
                + "(non-canonical field, e.g. an mpint or point form)"
        }
        var tail = WireWriter()
        tail.string(cert.signatureKeyWire)
        tail.string(cert.signature)
        guard blob.count >= w.bytes.count + tail.bytes.count, Array(blob.suffix(tail.bytes.count)) == tail.bytes else {
            return "round-trip: the signature key and signature are not the blob's last fields"
        }
        return checkFingerprint(cert.certifiedKey.fingerprint, key: cert.certifiedKey, what: "parsed certificate's")
    }

    /// The plain-key parsers see the same line: no crash, consistent results.
    private func checkPlainKeyParsers(_ line: String) -> String? {
        let sshKey = Result { () throws(SSHKeyError) in try SSHPublicKey.parse(authorizedKeysLine: line) }
        if case .success(let key) = sshKey {
            if let problem = checkFingerprint(key.fingerprint, key: key, what: "plain") { return problem }
        }
        let authKey = Result { () throws(AuthKeyError) in try Ed25519PublicKey(openSSHLine: line) }
        if case .success(let a) = authKey, case .success(let b) = sshKey, b.algorithm == .ed25519,
           a.rawRepresentation != b.ed25519Bytes {
            return "plain-key: KernelAuth and KernelSSH read different Ed25519 keys from one line"
        }
        // `load(configValue:)` treats a value without whitespace as a file path: only key text here.
        let trimmed = line.utf8.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        if trimmed.contains(0x20) || trimmed.contains(0x09), !line.contains("/") {
            if case .success(let key) = SSHPublicKey.load(configValue: line),
               let problem = checkFingerprint(key.fingerprint, key: key, what: "CA config") {
                return problem
            }
        }
        return nil
    }
}
