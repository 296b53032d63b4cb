@testable import KernelAuth
import KernelEvents
import Testing
import KernelCrypto

/// Keys, configs and hand-made tokens shared by the tests.
enum TestSupport {
    static let now: Int64 = 1_800_000_000
    static let producer = EventUUID("0190a5d2-7b3c-7def-8123-456789abcdef")!
    static let subject = EventUUID("11111111-2222-4333-8444-555555555555")!

    static func seed(_ first: UInt8) -> [UInt8] { (0..<32).map { first &+ UInt8($0) } }

    static func key(_ first: UInt8 = 1) -> Ed25519PrivateKey {
        try! Ed25519PrivateKey(seed: seed(first))
    }

    /// base64 of the 64-byte seed ‖ public key form.
    static func privateKeyBase64(_ first: UInt8 = 1, padded: Bool = false) -> String {
        let k = key(first)
        var text = Base64.standardEncode(seed(first) + k.publicKey.rawRepresentation)
        if !padded { while text.hasSuffix("=") { text.removeLast() } }
        return text
    }

    static func auth(privateKey: String? = privateKeyBase64(), keyID: String = "k1", skew: Int = 60) -> AuthSettings {
        var auth = AuthSettings(issuer: "iss-test", audience: "aud-test", keyID: keyID)
        auth.privateKey = privateKey
        auth.skewSeconds = skew
        return auth
    }

    static func issuer() -> TokenIssuer { try! TokenIssuer(settings: auth()) }
    static func verifier() -> TokenVerifier { try! TokenVerifier(settings: auth()) }

    static func segment(_ text: String) -> String { Base64.urlEncode(Array(text.utf8)) }

    /// A token with the given header and claims JSON texts, signed by `key` (default: the issuer key).
    static func craft(header: String = #"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#, claims: String,
                      key: Ed25519PrivateKey = key()) -> String {
        let input = segment(header) + "." + segment(claims)
        return input + "." + Base64.urlEncode(key.sign(Array(input.utf8)))
    }

    /// Claims like the issuer's, with members replaceable by name (`nil` value removes one).
    static func claims(_ overrides: [String: String?] = [:]) -> String {
        var members: [(String, String?)] = [
            ("iss", #""iss-test""#), ("aud", #""aud-test""#), ("sub", "\"\(producer)\""),
            ("iat", "\(now)"), ("nbf", "\(now - 60)"), ("exp", "\(now + 3600)"), ("jti", #""01JABCDEFGHJKMNPQRSTVWXYZ0""#),
        ]
        for (name, value) in overrides {
            if let i = members.firstIndex(where: { $0.0 == name }) { members[i].1 = value } else { members.append((name, value)) }
        }
        return "{" + members.compactMap { name, value in value.map { "\"\(name)\":\($0)" } }.joined(separator: ",") + "}"
    }

    static func code(_ token: String, at now: Int64 = now, verifier: TokenVerifier = verifier()) -> String? {
        switch verifier.verify(token, nowSeconds: now) {
        case .success: return nil
        case .failure(let error): return error.code
        }
    }
}
