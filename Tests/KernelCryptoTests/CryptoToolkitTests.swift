import KernelCrypto
import Testing

/// The crypto toolkit every module uses: one strict Base64, digests from libcrypto.
@Suite("Crypto toolkit")
struct CryptoToolkitTests {
    @Test("digests match the FIPS 180-4 and FIPS 202 test vectors")
    func vectors() {
        let abc = Array("abc".utf8)
        #expect(Digest.sha1.hex(abc) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Digest.sha256.hex(abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha512.hex(abc).hasPrefix("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"))
        #expect(Digest.sha3_512.hex([]) == "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26")
        #expect(Digest.sha3_512.hex(abc) == "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0")
    }

    @Test("a reused context gives the same digest as a fresh one, call after call")
    func reusedContext() {
        let context = DigestContext(.sha256)
        for text in ["", "abc", String(repeating: "x", count: 1000), "abc"] {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBytes { context.digest($0) } == Digest.sha256.hash(bytes))
        }
    }

    @Test("base64 round-trips every length in both dialects")
    func roundTrip() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.standardDecode(Base64.standardEncode(bytes)) == bytes)
            #expect(Base64.urlDecode(Array(Base64.urlEncode(bytes).utf8)) == bytes)
            #expect(Base64.standardDecodedCount(Base64.standardEncode(bytes)) == (length == 0 ? 0 : length))
        }
    }

    @Test("hostile base64 is refused: other alphabet, whitespace, bad padding, a lone character, non-zero trailing bits",
          arguments: ["QR==", "QQ=", "QQ===", "Q", "QUJD\n", " QUJD", "QU JD", "QUJ-", "QUJ_", "QUJ\u{0}", "QUJD=", "é"])
    func hostileStandard(_ text: String) {
        #expect(Base64.standardDecode(text) == nil, "\(text)")
        #expect(Base64.standardDecodedCount(text) == nil, "\(text)")
    }

    @Test("base64url refuses padding and the standard alphabet's + and /; one spelling per value")
    func urlStrict() {
        #expect(Base64.urlDecode(Array("QQ".utf8)) == [0x41])
        for bad in ["QQ==", "QR", "a+b/", "ab+c", "Q", "QU JD"] {
            #expect(Base64.urlDecode(Array(bad.utf8)) == nil, "\(bad)")
        }
        // The decoders agree on what they accept.
        #expect(Base64.standardDecode("QR") == nil)
        #expect(Base64.standardDecodedCount("QR") == nil)
        #expect(Base64.standardDecodedCount("QUJ") == nil)   // 'J' (001001) leaves a non-zero bit
        #expect(Base64.standardDecode("QUJ") == nil)
        #expect(Base64.standardDecodedCount("QUI") == 2)
        #expect(Base64.standardDecode("QUI") == [0x41, 0x42])
    }
}
