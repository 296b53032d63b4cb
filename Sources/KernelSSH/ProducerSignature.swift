import KernelJSON
import KernelCrypto

/// Producer and admin request signatures (docs/protocol.md, "Signing strings and signatures"): raw 64-byte pure Ed25519 over the signing
/// string, transported as standard-alphabet base64, unpadded or padded.
public enum ProducerSignature {
    /// `Canonical(payload) + "." + nonce`: what producers sign.
    public static func signingBytes(payload: [UInt8], nonce: String) -> [UInt8] {
        JSONCanonical.canonicalize(payload) + [UInt8(ascii: ".")] + Array(nonce.utf8)
    }

    /// `Canonical(body or "{}") + "\n" + METHOD + "\n" + path + "\n" + nonce`: what admins sign.
    public static func adminSigningBytes(body: [UInt8], method: String, path: String, nonce: String) -> [UInt8] {
        let canonical = JSONCanonical.canonicalize(body.isEmpty ? Array("{}".utf8) : body)
        return canonical + Array("\n\(method.uppercased())\n\(path)\n\(nonce)".utf8)
    }

    /// True if `signatureBase64` is a valid Ed25519 signature of `message` by `certifiedKey`.
    /// Refused: non-Ed25519 keys, URL-safe base64, whitespace, non-canonical trailing bits, and any
    /// decoded length other than 64.
    public static func verify(certifiedKey: SSHPublicKey, message: [UInt8], signatureBase64: String) -> Bool {
        guard certifiedKey.algorithm == .ed25519,
              let signature = Base64.standardDecode(signatureBase64), signature.count == 64 else { return false }
        return LibCrypto.verify(key: certifiedKey.cryptoKey, digest: nil, signature: signature, message: message)
    }
}

/// `ProducerSignature.verify` under the name the producer flows use.
public func verifyProducerSignature(certifiedKey: SSHPublicKey, message: [UInt8], signatureBase64: String) -> Bool {
    ProducerSignature.verify(certifiedKey: certifiedKey, message: message, signatureBase64: signatureBase64)
}
