import Testing
@testable import KernelPluginSDK

@Suite struct ErrorBufferTests {
    func written(_ message: String, capacity: Int) -> [UInt8] {
        var buffer = [CChar](repeating: 0x55, count: capacity + 4)
        buffer.withUnsafeMutableBufferPointer { ErrorBuffer.write(message, to: $0.baseAddress, capacity: capacity) }
        let end = buffer.firstIndex(of: 0) ?? buffer.count
        #expect(end < max(capacity, 1), "must be NUL-terminated within capacity")
        #expect(buffer[capacity...].allSatisfy { $0 == 0x55 }, "must not write past capacity")
        return buffer[..<end].map { UInt8(bitPattern: $0) }
    }

    @Test func copiesShortMessages() {
        #expect(written("bad price", capacity: 64) == Array("bad price".utf8))
    }

    @Test func truncatesToCapacity() {
        #expect(written("abcdefghij", capacity: 5) == Array("abcd".utf8))
        #expect(written("abc", capacity: 1) == [])
    }

    @Test func neverSplitsAUTF8Sequence() {
        // "é" is 2 bytes, "☃" 3, "😀" 4: cut inside each, the partial character is dropped.
        #expect(written("aé", capacity: 3) == Array("a".utf8))
        #expect(written("aé", capacity: 4) == Array("aé".utf8))
        #expect(written("a☃", capacity: 4) == Array("a".utf8))
        #expect(written("a😀", capacity: 5) == Array("a".utf8))
        #expect(written("a😀b", capacity: 6) == Array("a😀".utf8))
        for cap in 1...12 {
            let out = written("☃☃😀é", capacity: cap)
            #expect(String(validating: out, as: UTF8.self) != nil, "capacity \(cap) produced invalid UTF-8")
        }
    }

    @Test func replacesEmbeddedNUL() {
        #expect(written("a\u{0}b", capacity: 8) == Array("a?b".utf8))
    }

    @Test func ignoresNullBufferAndZeroCapacity() {
        ErrorBuffer.write("x", to: nil, capacity: 10)
        var c: CChar = 0x55
        ErrorBuffer.write("x", to: &c, capacity: 0)
        #expect(c == 0x55)
    }
}
