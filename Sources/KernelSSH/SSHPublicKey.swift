import KernelCrypto
/// An SSH public key (not a certificate): ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa.
///
/// Parsing validates the key fully (Ed25519 length, EC point on the curve, RSA modulus ≥ 2048
/// bits), so a value of this type is always usable for verification. Two keys are equal when their
/// SSH wire encodings are equal (CA keys are compared that way).
public struct SSHPublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The key algorithms handled here.
    public enum Algorithm: String, Sendable, CaseIterable {
        case ed25519 = "ssh-ed25519"
        case ecdsaP256 = "ecdsa-sha2-nistp256"
        case ecdsaP384 = "ecdsa-sha2-nistp384"
        case ecdsaP521 = "ecdsa-sha2-nistp521"
        case rsa = "ssh-rsa"

        /// The SSH curve identifier, OpenSSL group name, point length and digest of an ECDSA type.
        var curve: (sshName: String, group: String, pointLength: Int, digest: LibCrypto.Digest)? {
            switch self {
            case .ecdsaP256: return ("nistp256", "prime256v1", 65, .sha256)
            case .ecdsaP384: return ("nistp384", "secp384r1", 97, .sha384)
            case .ecdsaP521: return ("nistp521", "secp521r1", 133, .sha512)
            case .ed25519, .rsa: return nil
            }
        }
    }

    /// Smallest RSA modulus accepted (NIST SP 800-131A; OpenSSH itself still allows 1024).
    public static let minimumRSABits = 2048
    /// Largest RSA modulus accepted (OpenSSH's limit).
    public static let maximumRSABits = 16384

    /// The key's algorithm.
    public let algorithm: Algorithm
    /// The SSH wire encoding (`string type, …`), the blob of an authorized_keys line.
    public let wireEncoding: [UInt8]
    /// For Ed25519, the 32 raw key bytes; nil for other types.
    public let ed25519Bytes: [UInt8]?
    let cryptoKey: LibCryptoKey

    /// The authorized_keys form without comment: `"<type> <base64 blob>"`.
    public var authorizedKeysLine: String { "\(algorithm.rawValue) \(Base64.standardEncode(wireEncoding))" }

    public var description: String { authorizedKeysLine }

    /// The fingerprint (docs/protocol.md, "Fingerprints"): standard base64 (padded, 88 characters) of SHA3-512 over the wire
    /// encoding. Comments, whitespace and certificate renewal do not change it.
    public var fingerprint: String { Base64.standardEncode(Digest.sha3_512.hash(wireEncoding)) }

    public static func == (lhs: SSHPublicKey, rhs: SSHPublicKey) -> Bool { lhs.wireEncoding == rhs.wireEncoding }
    public func hash(into hasher: inout Hasher) { hasher.combine(wireEncoding) }

    /// Parses a public key from its SSH wire encoding; the whole input must be the key.
    public static func parse(wire: [UInt8]) throws(SSHKeyError) -> SSHPublicKey {
        var reader = SSHWireReader(wire)
        guard let typeBytes = reader.readString() else { throw SSHKeyError(.malformed, "no key type") }
        let type = String(decoding: typeBytes, as: UTF8.self)
        guard let algorithm = Algorithm(rawValue: type) else {
            if type.hasSuffix("-cert-v01@openssh.com") { throw SSHKeyError(.isCertificate, "\(type) is a certificate") }
            throw SSHKeyError(.unsupportedKeyType, "key type \(printable(type)) is not supported")
        }
        let key = try readBody(algorithm, from: &reader)
        guard reader.isAtEnd else { throw SSHKeyError(.malformed, "\(reader.remaining) bytes after the key") }
        return key
    }

    /// Reads the key fields after the type string (shared with certificates, whose certified key
    /// fields sit between the nonce and the serial) and builds the wire encoding from them.
    static func readBody(_ algorithm: Algorithm, from reader: inout SSHWireReader) throws(SSHKeyError) -> SSHPublicKey {
        var writer = SSHWireWriter()
        writer.writeString(algorithm.rawValue)
        switch algorithm {
        case .ed25519:
            guard let raw = reader.readString(), raw.count == 32 else {
                throw SSHKeyError(.malformed, "an Ed25519 key is a 32-byte string")
            }
            guard let key = LibCrypto.ed25519Key(raw) else { throw SSHKeyError(.malformed, "libcrypto refused the Ed25519 key") }
            writer.writeString(raw)
            return SSHPublicKey(algorithm: algorithm, wireEncoding: writer.bytes, ed25519Bytes: raw, cryptoKey: key)
        case .ecdsaP256, .ecdsaP384, .ecdsaP521:
            let curve = algorithm.curve!
            guard let curveName = reader.readString(), curveName == Array(curve.sshName.utf8) else {
                throw SSHKeyError(.malformed, "\(algorithm.rawValue) key must name curve \(curve.sshName)")
            }
            // Uncompressed points only, as OpenSSH (sshkey_ec_validate_public) requires.
            guard let point = reader.readString(), point.count == curve.pointLength, point.first == 0x04 else {
                throw SSHKeyError(.malformed, "\(algorithm.rawValue) key needs an uncompressed \(curve.pointLength)-byte point")
            }
            guard let key = LibCrypto.ecKey(group: curve.group, point: point) else {
                throw SSHKeyError(.weakKey, "the \(curve.sshName) point is not a valid public key")
            }
            writer.writeString(curveName)
            writer.writeString(point)
            return SSHPublicKey(algorithm: algorithm, wireEncoding: writer.bytes, ed25519Bytes: nil, cryptoKey: key)
        case .rsa:
            guard let e = reader.readMPInt(), let n = reader.readMPInt() else {
                throw SSHKeyError(.malformed, "ssh-rsa key needs mpint e and n")
            }
            let bits = bitLength(n)
            guard bits >= minimumRSABits else {
                throw SSHKeyError(.weakKey, "RSA modulus of \(bits) bits; at least \(minimumRSABits) required")
            }
            guard bits <= maximumRSABits else { throw SSHKeyError(.malformed, "RSA modulus of \(bits) bits is too large") }
            // e must be odd and > 1 (OpenSSL's public check refuses the rest).
            guard let last = e.last, last & 1 == 1, e.count > 1 || last > 1 else {
                throw SSHKeyError(.malformed, "invalid RSA public exponent")
            }
            guard let key = LibCrypto.rsaKey(e: e, n: n) else { throw SSHKeyError(.malformed, "libcrypto refused the RSA key") }
            writer.writeMPInt(e)
            writer.writeMPInt(n)
            return SSHPublicKey(algorithm: algorithm, wireEncoding: writer.bytes, ed25519Bytes: nil, cryptoKey: key)
        }
    }

    /// Parses an authorized_keys line `type base64 [comment]` holding a plain public key.
    public static func parse(authorizedKeysLine line: String) throws(SSHKeyError) -> SSHPublicKey {
        guard let parsed = AuthorizedKeysLine(line) else {
            throw SSHKeyError(.malformed, "not an authorized_keys line (type, base64 blob, optional comment)")
        }
        let key = try parse(wire: parsed.blob)
        guard key.algorithm.rawValue == parsed.type else {
            throw SSHKeyError(.malformed, "line type \(printable(parsed.type)) differs from the blob's \(key.algorithm.rawValue)")
        }
        return key
    }

    /// Number of significant bits of a big-endian magnitude.
    static func bitLength(_ magnitude: [UInt8]) -> Int {
        guard let i = magnitude.firstIndex(where: { $0 != 0 }) else { return 0 }
        return (magnitude.count - i - 1) * 8 + (8 - magnitude[i].leadingZeroBitCount)
    }
}

/// Untrusted text for a log line: at most 64 characters, control characters replaced.
func printable(_ text: String) -> String {
    let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.prefix(64).map {
        $0.value < 0x20 || $0.value == 0x7F ? "?" : $0
    }))
    return text.unicodeScalars.count > 64 ? "\"\(cleaned)…\"" : "\"\(cleaned)\""
}
