import KernelAuth
import KernelSSH
import KernelCrypto

/// Signs admin requests the way `AdminServer` checks them (docs/protocol.md, "Signing strings and signatures"):
/// `Canonical(body or "{}") \n METHOD \n path \n nonce`, Ed25519 with the certified key, standard
/// base64. Used by `kernel admin …` and by tests.
public struct AdminRequestSigner: Sendable {
    /// The admin's OpenSSH Ed25519 private key (the certificate's certified key).
    public let key: Ed25519PrivateKey
    /// The certificate line (`ssh-ed25519-cert-v01@openssh.com AAAA… comment`).
    public let certificateLine: String
    /// Sent as `X-SSH-Principal` when set.
    public let principal: String?

    public init(key: Ed25519PrivateKey, certificateLine: String, principal: String? = nil) {
        self.key = key
        self.certificateLine = certificateLine.trimmingScalars(in: " \t\r\n")
        self.principal = principal
    }

    /// 16 random bytes as 32 lowercase hex characters (the admin helper's nonce form).
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for _ in 0..<16 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The authentication headers for one request. `path` is the URL path without the query.
    public func headers(method: String, path: String, body: [UInt8], nonce: String = makeNonce()) -> [(String, String)] {
        let message = ProducerSignature.adminSigningBytes(body: body, method: method, path: path, nonce: nonce)
        var headers = [
            ("X-SSH-Cert", certificateLine),
            ("X-Admin-Nonce", nonce),
            ("X-Admin-Signature", Self.base64(key.sign(message))),
        ]
        if let principal, !principal.isEmpty { headers.append(("X-SSH-Principal", principal)) }
        return headers
    }

    /// Standard base64 with padding (the SSH module's encoder).
    static func base64(_ bytes: [UInt8]) -> String { Base64.standardEncode(bytes) }
}
