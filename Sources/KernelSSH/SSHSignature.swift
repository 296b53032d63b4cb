import KernelCrypto
/// The outcome of checking an SSH signature blob (`string sig-type, string sig-bytes`).
enum SignatureVerdict: Equatable {
    case valid
    /// Well-formed but does not verify (or names an algorithm that does not fit the key).
    case invalid
    /// `ssh-rsa`: PKCS#1 v1.5 over SHA-1, refused.
    case weakAlgorithm
    /// Not a signature blob.
    case malformed
}

extension SSHPublicKey {
    /// Verifies an SSH signature blob over `message` with this key, as OpenSSH's `sshkey_verify`:
    /// Ed25519 (64 bytes), ECDSA with the curve's digest (r, s mpints, DER-converted for libcrypto),
    /// RSA PKCS#1 v1.5 with rsa-sha2-256/512 (short signatures left-padded to the modulus size).
    func verifySSHSignature<M: Collection>(_ blob: [UInt8], over message: M) -> SignatureVerdict where M.Element == UInt8 {
        var reader = SSHWireReader(blob)
        guard let typeBytes = reader.readString(), let signature = reader.readString(), reader.isAtEnd else {
            return .malformed
        }
        let type = String(decoding: typeBytes, as: UTF8.self)
        switch algorithm {
        case .ed25519:
            guard type == "ssh-ed25519" else { return .invalid }
            guard signature.count == 64 else { return .malformed }
            return LibCrypto.verify(key: cryptoKey, digest: nil, signature: signature, message: message) ? .valid : .invalid
        case .ecdsaP256, .ecdsaP384, .ecdsaP521:
            guard type == algorithm.rawValue else { return .invalid }
            var inner = SSHWireReader(signature)
            guard let r = inner.readMPInt(), let s = inner.readMPInt(), inner.isAtEnd else { return .malformed }
            guard !r.isEmpty, !s.isEmpty else { return .invalid }
            let der = Self.derSignature(r: r, s: s)
            return LibCrypto.verify(key: cryptoKey, digest: algorithm.curve!.digest, signature: der, message: message)
                ? .valid : .invalid
        case .rsa:
            let digest: LibCrypto.Digest
            switch type {
            case "rsa-sha2-256": digest = .sha256
            case "rsa-sha2-512": digest = .sha512
            case "ssh-rsa": return .weakAlgorithm
            default: return .invalid
            }
            let modulusBytes = (LibCrypto.bits(cryptoKey) + 7) / 8
            guard !signature.isEmpty, signature.count <= modulusBytes else { return .malformed }
            let padded = [UInt8](repeating: 0, count: modulusBytes - signature.count) + signature
            return LibCrypto.verify(key: cryptoKey, digest: digest, signature: padded, message: message) ? .valid : .invalid
        }
    }

    /// DER `SEQUENCE { INTEGER r, INTEGER s }` from two positive magnitudes without leading zeros.
    static func derSignature(r: [UInt8], s: [UInt8]) -> [UInt8] {
        func integer(_ m: [UInt8]) -> [UInt8] {
            let body = m.first.map { $0 & 0x80 != 0 } == true ? [0] + m : m
            return [0x02] + length(body.count) + body
        }
        func length(_ n: Int) -> [UInt8] {
            if n < 0x80 { return [UInt8(n)] }
            if n < 0x100 { return [0x81, UInt8(n)] }
            return [0x82, UInt8(n >> 8), UInt8(n & 0xFF)]
        }
        let body = integer(r) + integer(s)
        return [0x30] + length(body.count) + body
    }
}
