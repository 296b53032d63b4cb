import Foundation
import KernelAuth
import KernelJSON
import KernelSSH

/// The producer's key pair and certificate, and the signing rule of every control request
/// (docs/protocol.md, "Signing strings and signatures"): `sig` = standard base64 of pure Ed25519 over `Canonical(payload) + "." + nonce`.
struct ProducerIdentity {
    let key: Ed25519PrivateKey
    /// The whole certificate line (`ssh-ed25519-cert-v01@openssh.com AAAA… comment`), sent as `pubkey`.
    let certificateLine: String
    /// The key's identity as the kernel computes it (SHA3-512 of the certified key), for log lines.
    let fingerprint: String

    /// Loads `keyPath` (an unencrypted OpenSSH Ed25519 private key) and `certPath` (made by
    /// `ssh-keygen -s producer_ca … keyPath.pub`), and checks the certificate is for this key.
    init(keyPath: String, certPath: String) throws(ProducerError) {
        do {
            key = try Ed25519PrivateKey(openSSHFile: keyPath)
        } catch {
            throw ProducerError(.badKey, "\(keyPath): \(error)")
        }
        guard let text = try? String(contentsOfFile: certPath, encoding: .utf8) else {
            throw ProducerError(.badCertificate, "cannot read \(certPath)")
        }
        certificateLine = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = certificateLine.split(separator: " ")
        guard fields.count >= 2, fields[0].hasSuffix("-cert-v01@openssh.com"),
              let blob = Data(base64Encoded: String(fields[1])) else {
            throw ProducerError(.badCertificate, "\(certPath) is not an OpenSSH certificate line")
        }
        let certificate: SSHCertificate
        do {
            certificate = try SSHCertificate.parse(wire: [UInt8](blob))
        } catch {
            throw ProducerError(.badCertificate, "\(certPath): \(error)")
        }
        // A certificate for another key would be refused by the kernel as invalid_sig; say so now.
        guard certificate.certifiedKey.ed25519Bytes == key.publicKey.rawRepresentation else {
            throw ProducerError(.badCertificate, "\(certPath) certifies another key than \(keyPath)")
        }
        fingerprint = certificate.certifiedKey.fingerprint
    }

    /// The four fields of a signed control request for `payload`, with a fresh nonce.
    /// The payload is sent in its canonical form, so what is signed is exactly what is sent.
    func signedRequest(payload: JSONValue) -> (fields: [String], nonce: String) {
        let canonical = JSONCanonical.canonicalize(JSONWriter.serialize(payload))
        let nonce = Self.freshNonce()
        let signature = key.sign(ProducerSignature.signingBytes(payload: Array(canonical.utf8), nonce: nonce))
        let fields = ["pubkey", certificateLine, "payload", canonical, "nonce", nonce,
                      "sig", Data(signature).base64EncodedString()]
        return (fields, nonce)
    }

    /// 16 random bytes, base64url without padding (the nonce only has to be unique per request).
    static func freshNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
