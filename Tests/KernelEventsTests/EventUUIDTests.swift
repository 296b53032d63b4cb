import Foundation
import KernelTestSupport
import Testing
@testable import KernelEvents

@Suite("EventUUID")
struct EventUUIDTests {
    @Test("either case parses to the same value; description is canonical lower case")
    func cases() throws {
        let lower = try #require(EventUUID("0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21"))
        let upper = try #require(EventUUID("0190F3C4-7B1E-7CC3-9D2A-5B8E1F0A4C21"))
        let mixed = try #require(EventUUID("0190f3C4-7b1E-7Cc3-9D2a-5b8E1f0A4c21"))
        #expect(lower == upper && upper == mixed)
        #expect(upper.description == "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21")
        #expect(lower.high == 0x0190_F3C4_7B1E_7CC3 && lower.low == 0x9D2A_5B8E_1F0A_4C21)
        #expect(lower.bytes == [0x01, 0x90, 0xF3, 0xC4, 0x7B, 0x1E, 0x7C, 0xC3,
                                0x9D, 0x2A, 0x5B, 0x8E, 0x1F, 0x0A, 0x4C, 0x21])
        #expect(EventUUID("00000000-0000-0000-0000-000000000000")?.bytes == [UInt8](repeating: 0, count: 16))
        #expect(EventUUID("ffffffff-ffff-ffff-ffff-ffffffffffff") == EventUUID(high: .max, low: .max))
        // Any version (v1, v4, v7, nil, max, non-RFC variants) is accepted.
        #expect(EventUUID("3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d") != nil)
        #expect(EventUUID("3f1e2d4c-5b6a-1789-ec0d-1e2f3a4b5c6d") != nil)
        // Substrings work too.
        let s = "x0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21x"
        #expect(EventUUID(s.dropFirst().dropLast()) == lower)
        #expect(lower < EventUUID(high: lower.high, low: lower.low + 1))
    }

    @Test("wrong lengths, hyphen positions and non-hex digits are refused", arguments: [
        "", "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c2", "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c211",
        "0190f3c47b1e7cc39d2a5b8e1f0a4c21", "{0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21}",
        "urn:uuid:0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21", "0190f3c-47b1e-7cc3-9d2a-5b8e1f0a4c21",
        "0190f3c4-7b1e7-cc3-9d2a-5b8e1f0a4c21", "0190f3c4-7b1e-7cc3-9d2a5-b8e1f0a4c21",
        "0190f3c4_7b1e_7cc3_9d2a_5b8e1f0a4c21", "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c2g",
        "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c2 ", " 0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c2",
        "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c-1", "0190f3c4--7b1e-7cc3-9d2a-5b8e1f0a4c2",
        "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4cé", "------------------------------------",
        "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c2Z",
    ])
    func refused(text: String) {
        #expect(EventUUID(text) == nil)
        var copy = text
        let viaBytes = copy.withUTF8 { EventUUID(utf8: UnsafeRawBufferPointer($0)) }
        #expect(viaBytes == nil)
    }

    @Test("every byte value at every digit position: hex digits parse, anything else is refused")
    func everyByte() {
        let base = Array("0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21".utf8)
        let hex = Set(Array("0123456789abcdefABCDEF".utf8))
        for position in 0..<36 where ![8, 13, 18, 23].contains(position) {
            for byte in 0...255 {
                var text = base
                text[position] = UInt8(byte)
                let parsed = text.withUnsafeBytes { EventUUID(utf8: $0) }
                if hex.contains(UInt8(byte)) {
                    let digit = Int(String(UnicodeScalar(UInt8(byte))), radix: 16)!
                    let digitIndex = position - [8, 13, 18, 23].filter { $0 < position }.count
                    let word = digitIndex < 16 ? parsed?.high : parsed?.low
                    let shift = UInt64(60 - 4 * (digitIndex % 16))
                    #expect(word.map { Int(($0 >> shift) & 0xF) } == digit, "byte \(byte) at \(position)")
                } else {
                    #expect(parsed == nil, "byte \(byte) at \(position)")
                }
            }
        }
    }

    @Test("random values round-trip through text")
    func roundTrip() {
        var rng = SplitMix64(seed: 16)
        for _ in 0..<2_000 {
            let u = EventUUID(high: rng.next(), low: rng.next())
            #expect(EventUUID(u.description) == u)
            #expect(EventUUID(u.description.uppercased()) == u)
        }
    }

    @Test("the canonical text agrees with Foundation's UUID, lower-cased, for random values")
    func textMatchesFoundation() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let id = EventUUID(high: rng.next(), low: rng.next())
            let bytes = id.bytes
            let reference = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                        bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
            #expect(id.description == reference.uuidString.lowercased())
            var appended: [UInt8] = [0x2A]
            id.appendText(to: &appended)
            #expect(appended == [0x2A] + Array(reference.uuidString.lowercased().utf8))
            #expect(EventUUID(id.description) == id)
        }
    }
}
