import KernelTestSupport
import Testing
@testable import KernelSSH
import KernelCrypto

@Suite("SSH wire encoding and base64")
struct SSHWireTests {
    @Test("uint32, uint64, string and bounds")
    func basics() {
        var r = SSHWireReader([0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0, 0, 0, 0, 0, 1, 0])
        #expect(r.readString() == [0x61, 0x62, 0x63])
        #expect(r.readUInt64() == 256)
        #expect(r.isAtEnd)
        #expect(r.readUInt32() == nil)
        var short = SSHWireReader([0, 0, 0, 5, 1, 2])
        #expect(short.readString() == nil)
        #expect(short.offset == 0)
        var huge = SSHWireReader([0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        #expect(huge.readString() == nil)
        var empty = SSHWireReader([])
        #expect(empty.readUInt32() == nil && empty.readString() == nil && empty.readMPInt() == nil)
    }

    @Test("text strings refuse NUL and invalid UTF-8")
    func text() {
        var ok = SSHWireReader([0, 0, 0, 2, 0xC3, 0xA9])
        #expect(ok.readText() == "é")
        var nul = SSHWireReader([0, 0, 0, 2, 0x61, 0])
        #expect(nul.readText() == nil)
        var bad = SSHWireReader([0, 0, 0, 1, 0xFF])
        #expect(bad.readText() == nil)
    }

    @Test("mpint: non-negative, minimal, bounded")
    func mpint() {
        func read(_ bytes: [UInt8]) -> [UInt8]? {
            var w = SSHWireWriter()
            w.writeString(bytes)
            var r = SSHWireReader(w.bytes)
            return r.readMPInt()
        }
        #expect(read([]) == [])
        #expect(read([0x01]) == [0x01])
        #expect(read([0x00, 0x80]) == [0x80])
        #expect(read([0x80]) == nil)            // negative
        #expect(read([0x00]) == nil)            // zero must be empty
        #expect(read([0x00, 0x01]) == nil)      // needless leading zero
        #expect(read([0x7F] + [UInt8](repeating: 1, count: 2048)) == [0x7F] + [UInt8](repeating: 1, count: 2048))
        #expect(read([0x01] + [UInt8](repeating: 1, count: 2049)) == nil) // > 16384 bits
        var w = SSHWireWriter()
        w.writeMPInt([0, 0, 0x80, 1])
        #expect(w.bytes == [0, 0, 0, 3, 0, 0x80, 1])
        var z = SSHWireWriter()
        z.writeMPInt([0, 0])
        #expect(z.bytes == [0, 0, 0, 0])
    }

    @Test("name-list")
    func nameList() {
        func read(_ s: String) -> [String]? {
            var w = SSHWireWriter()
            w.writeString(s)
            var r = SSHWireReader(w.bytes)
            return r.readNameList()
        }
        #expect(read("") == [])
        #expect(read("a,b@c.com,d-e") == ["a", "b@c.com", "d-e"])
        #expect(read("a,,b") == nil)
        #expect(read("a,") == nil)
        #expect(read("a b") == nil)
        #expect(read("é") == nil)
    }

    @Test("base64: padded and unpadded, strict")
    func base64() {
        #expect(Base64.standardEncode([]) == "")
        #expect(Base64.standardEncode([0xFF]) == "/w==")
        #expect(Base64.standardEncode([0xFF, 0xEE]) == "/+4=")
        #expect(Base64.standardEncode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.standardDecode("Zm9vYmE=") == Array("fooba".utf8))
        #expect(Base64.standardDecode("Zm9vYmE") == Array("fooba".utf8))
        #expect(Base64.standardDecode("Zm9vYg==") == Array("foob".utf8))
        #expect(Base64.standardDecode("Zm9vYg") == Array("foob".utf8))
        #expect(Base64.standardDecode("") == [])
        #expect(Base64.standardDecode("Zm9vYg=") == nil)     // incomplete padding
        #expect(Base64.standardDecode("Zm9vYg===") == nil)
        #expect(Base64.standardDecode("Zm9vYmFy=") == nil)
        #expect(Base64.standardDecode("Zm9vY") == nil)       // 6 leftover bits
        #expect(Base64.standardDecode("Zm9vYh") == nil)      // non-zero trailing bits
        #expect(Base64.standardDecode("_-4") == nil)         // URL-safe alphabet
        #expect(Base64.standardDecode("Zm9v Yg") == nil)
        #expect(Base64.standardDecode("Zm9v\nYg") == nil)
        #expect(Base64.standardDecode("Zm=9vYg") == nil)
        var rng = SplitMix64(seed: 3)
        for n in 0..<200 {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let text = Base64.standardEncode(bytes)
            #expect(Base64.standardDecode(text) == bytes)
            #expect(Base64.standardDecode(text.replacingOccurrences(of: "=", with: "")) == bytes)
        }
    }

    @Test("DER conversion of ECDSA (r, s)")
    func der() {
        #expect(SSHPublicKey.derSignature(r: [0x01], s: [0x80]) == [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80])
        let big = [UInt8](repeating: 0xFF, count: 66)
        let der = SSHPublicKey.derSignature(r: big, s: big)
        #expect(der[0] == 0x30 && der[1] == 0x81 && Int(der[2]) == der.count - 3)
    }
}
