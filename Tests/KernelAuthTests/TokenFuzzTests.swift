@testable import KernelAuth
import KernelTestSupport
import Testing

/// Deterministic (fixed-seed) fuzzing: random and mutated tokens must never crash the verifier
/// and never verify unless they are byte-identical to a genuine token.
@Suite("Token verifier fuzzing")
struct TokenFuzzTests {
    static let interesting: [UInt8] = Array("=.+/-_ \n\0{}[]\":,\\AZaz09".utf8) + [0x80, 0xC3, 0xFF]

    @Test("mutated genuine tokens never crash and never verify")
    func mutations() {
        var random = SplitMix64(seed: 0x5EED_0001)
        let verifier = TestSupport.verifier()
        let genuine = Array(TestSupport.issuer().issue(producer: TestSupport.producer, subject: TestSupport.subject,
                                                       fingerprint: "fp", ttlSeconds: 600, nowSeconds: TestSupport.now).token.utf8)
        var refused = 0
        for _ in 0..<3000 {
            var token = genuine
            for _ in 0..<(1 + random.below(4)) {
                switch random.below(5) {
                case 0: token[random.below(token.count)] ^= UInt8(1 << random.below(8))
                case 1: token[random.below(token.count)] = Self.interesting[random.below(Self.interesting.count)]
                case 2: token.insert(Self.interesting[random.below(Self.interesting.count)], at: random.below(token.count + 1))
                case 3: if token.count > 1 { token.remove(at: random.below(token.count)) }
                default: token = Array(token.prefix(random.below(token.count + 1)))
                }
                if token.isEmpty { break }
            }
            let result = verifier.verify(token, nowSeconds: TestSupport.now)
            if token == genuine { continue }
            if case .success = result { Issue.record("a mutated token verified: \(String(decoding: token, as: UTF8.self))") }
            refused += 1
        }
        #expect(refused > 2500)
    }

    @Test("random bytes, random base64url segments and random JSON never crash")
    func randomInput() {
        var random = SplitMix64(seed: 0x5EED_0002)
        let verifier = TestSupport.verifier()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let jsonPieces = ["{", "}", "[", "]", "\"alg\"", "\"EdDSA\"", "\"kid\"", "\"k1\"", ":", ",", "1", "-0", "1e999",
                          "null", "true", "\"\\u0000\"", "\"\\ud800\"", "\u{FFFF}", " "]
        var codes: Set<String> = []
        for round in 0..<3000 {
            var token: [UInt8]
            switch round % 3 {
            case 0:
                token = (0..<random.below(200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1:
                token = []
                for segment in 0..<3 {
                    if segment > 0 { token.append(UInt8(ascii: ".")) }
                    token += (0..<random.below(120)).map { _ in alphabet[random.below(alphabet.count)] }
                }
            default:
                let header = (0..<random.below(12)).map { _ in jsonPieces[random.below(jsonPieces.count)] }.joined()
                let claims = (0..<random.below(12)).map { _ in jsonPieces[random.below(jsonPieces.count)] }.joined()
                token = Array(TestSupport.craft(header: round % 2 == 0 ? #"{"alg":"EdDSA","kid":"k1"}"# : header,
                                                claims: claims).utf8)
            }
            switch verifier.verify(token, nowSeconds: TestSupport.now) {
            case .success: Issue.record("random input verified")
            case .failure(let error): codes.insert(error.code)
            }
        }
        // The generators reach deep into the checks, not just the first one.
        #expect(codes.isSuperset(of: ["bad_token_format", "bad_header_b64", "bad_header_json", "bad_claims_json"]))
    }

    @Test("oversized and deeply nested inputs are refused cheaply")
    func bounds() {
        let verifier = TestSupport.verifier()
        let nine = [UInt8](repeating: UInt8(ascii: "A"), count: 9 * 1024)
        #expect(TestSupport.code(String(decoding: nine, as: UTF8.self)) == "bad_token_format")
        let dots = [UInt8](repeating: UInt8(ascii: "."), count: 8000)
        #expect(TestSupport.code(String(decoding: dots, as: UTF8.self)) == "bad_token_format")
        let deep = String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000)
        #expect(TestSupport.code(TestSupport.craft(header: deep, claims: "{}"), verifier: verifier) == "bad_header_json")
        #expect(TestSupport.code(TestSupport.craft(claims: deep), verifier: verifier) == "bad_claims_json")
    }
}

extension SplitMix64 {
    /// A number in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
