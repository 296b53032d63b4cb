import KernelSSH
import KernelCrypto

/// The fingerprint of a request's `pubkey` field (docs/protocol.md, "Fingerprints"): standard base64 (padded)
/// of SHA3-512 over the SSH wire encoding of the *certified* key, so comments, whitespace and
/// certificate renewal do not change a key's identity.
///
/// Computed before any check (step 2 of docs/onboarding.md, "Registration"), so it must exist for every input: a plain
/// public key hashes its own wire encoding (it is refused later, but its refusal is audited under
/// the key's identity); bytes that are no SSH key at all hash the field's raw bytes, which only
/// serves to key the audit row and the nonce guard.
public enum KeyFingerprint {
    /// Longest `pubkey` field parsed as a key (OpenSSH certificates are a few KiB at most;
    /// `AuthorizedKeysLine` refuses longer lines too).
    static let maxLineBytes = 64 * 1024

    public static func of(pubkey: [UInt8]) -> String {
        if pubkey.count <= maxLineBytes, let wire = certifiedKeyWire(pubkey) {
            return Base64.standardEncode(Digest.sha3_512.hash(wire))
        }
        return Base64.standardEncode(Digest.sha3_512.hash(pubkey))
    }

    public static func of(pubkey: String) -> String { of(pubkey: Array(pubkey.utf8)) }

    /// The wire encoding of the certified key of a certificate line, or of the key of a plain
    /// public key line; nil when the line is neither.
    static func certifiedKeyWire(_ line: [UInt8]) -> [UInt8]? {
        let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
        guard fields.count >= 2, let blob = Base64.standardDecode(Array(fields[1])) else { return nil }
        let type = String(decoding: fields[0], as: UTF8.self)
        if type.hasSuffix("-cert-v01@openssh.com") {
            guard let cert = try? SSHCertificate.parse(wire: blob) else { return nil }
            return cert.certifiedKey.wireEncoding
        }
        guard let key = try? SSHPublicKey.parse(wire: blob), key.algorithm.rawValue == type else { return nil }
        return key.wireEncoding
    }
}

/// Standard-alphabet base64 decoding, padding optional, no whitespace.
enum StandardBase64 {
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var input = text[...]
        while input.last == UInt8(ascii: "=") { input = input.dropLast() }
        guard text.count - input.count <= 2, input.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in input {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: return nil
            }
            acc = (acc << 6) | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
