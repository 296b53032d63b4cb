import KernelTestSupport
import Testing
@testable import KernelJSON

/// The two checks the envelope parser runs on every event to refuse text instead of repairing it
/// (docs/producers.md, "What the kernel refuses"): the first invalid UTF-8 byte, and the first
/// `\u0000` or lone-surrogate escape.
@Suite("Text checks")
struct TextCheckTests {
    /// The offset of the first ill-formed sequence, by the standard library's decoder.
    private func reference(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    private func firstInvalid(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBytes { UTF8Text.firstInvalidOffset(in: $0) }
    }

    @Test("firstInvalidOffset agrees with the standard library on every length and alignment")
    func utf8AgreesWithStandardLibrary() {
        var rng = SplitMix64(seed: 0x7E47)
        let pieces: [[UInt8]] = [[0x41], [0x7F], [0xC3, 0xA9], [0xE6, 0x97, 0xA5], [0xF0, 0x9F, 0x98, 0x80],
                                 [0xFF], [0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80],
                                 [0xC3], [0xF0, 0x9F, 0x98]]
        var invalid = 0
        for round in 0..<20_000 {
            var bytes: [UInt8] = Array(repeating: 0x61, count: Int(rng.next() % 20))
            for _ in 0..<Int(rng.next() % 6) {
                let piece = rng.next() % 3 == 0 ? pieces[Int(rng.next() % UInt64(pieces.count))] : [UInt8(rng.next() % 0x80)]
                bytes.insert(contentsOf: piece, at: Int(rng.next() % UInt64(bytes.count + 1)))
            }
            let want = reference(bytes)
            if want != nil { invalid += 1 }
            #expect(firstInvalid(bytes) == want, "round \(round): \(bytes)")
        }
        #expect(invalid > 1_000 && invalid < 19_000)
        #expect(firstInvalid([]) == nil)
        #expect(firstInvalid(Array("0123456789abcdef0123456789abcdé".utf8)) == nil)
        #expect(firstInvalid(Array("0123456789abcdef".utf8) + [0xFF]) == 16)
    }

    private func suspect(_ text: String) -> (offset: Int, escape: JSONScanner.SuspectEscape)? {
        Array(text.utf8).withUnsafeBytes { JSONScanner.firstSuspectEscape(in: $0) }
    }

    @Test("firstSuspectEscape finds NUL and lone surrogates, never an escaped backslash's text")
    func escapes() {
        #expect(suspect(#"{"a":"x\u0000"}"#)?.offset == 7)
        #expect(suspect(#"{"a":"x\u0000"}"#)?.escape == .nul)
        #expect(suspect(#"{"a":"\ud800"}"#)?.escape == .loneSurrogate(0xD800))
        #expect(suspect(#"{"a":"\uDFFF\ud800"}"#)?.escape == .loneSurrogate(0xDFFF))
        #expect(suspect(#"{"a":"\ud800\u0041"}"#)?.escape == .loneSurrogate(0xD800))
        #expect(suspect(#"{"a":"\ud83d\ude00\ud800"}"#)?.offset == 18)
        #expect(suspect(#"{"\\u0000":"\\\\ud800","b":"\n\"\/\ud83d\ude00\u00e9"}"#) == nil)
        #expect(suspect(#"{"a":"\\\u0000"}"#)?.offset == 8)
        #expect(suspect(#"{"a":1}"#) == nil)
        #expect(suspect("") == nil)
    }
}
