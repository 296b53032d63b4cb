@testable import KernelSpill
import KernelTestSupport
import Testing

@Suite("CRC32C")
struct CRC32CTests {
    /// Bit-at-a-time reference, to check the sliced implementation at every length and alignment.
    static func reference(_ bytes: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test("known vectors: check value and RFC 3720 B.4")
    func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        // RFC 3720 B.4: an iSCSI SCSI Read (10) command PDU.
        let pdu: [UInt8] = [
            0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        #expect(CRC32C.checksum(pdu) == 0xD996_3A56)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test("matches the bitwise reference at every length and offset up to 80")
    func matchesReference() {
        var rng = SplitMix64(seed: 1)
        let data = (0..<96).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for start in 0..<16 {
            for end in start...min(start + 80, data.count) {
                let slice = data[start..<end]
                #expect(CRC32C.checksum(slice) == Self.reference(slice), "bytes \(start)..<\(end)")
            }
        }
    }

    @Test("seed chaining equals one pass")
    func chaining() {
        var rng = SplitMix64(seed: 2)
        let data = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let whole = CRC32C.checksum(data)
        for cut in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = CRC32C.checksum(data[0..<cut])
            #expect(CRC32C.checksum(data[cut...], seed: first) == whole, "cut at \(cut)")
        }
    }
}
