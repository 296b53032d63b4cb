@testable import KernelAuth
import Testing

@Suite("ULID token ids")
struct ULIDTests {
    @Test("26 Crockford base32 characters whose first 10 encode the milliseconds")
    func format() {
        let ms: Int64 = 1_800_000_000_123
        let id = ULIDGenerator().next(milliseconds: ms)
        #expect(id.utf8.count == 26)
        #expect(ULID.isValid(id))
        #expect(ULID.milliseconds(of: id) == ms)
        #expect(!id.contains(where: { "ILOU".contains($0) }))
    }

    @Test("encoding of known values")
    func knownValues() {
        #expect(ULID.encode(high: 0, low: 0) == "00000000000000000000000000")
        #expect(ULID.encode(high: .max, low: .max) == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        // The spec's example timestamp 1469918176385 → "01ARYZ6S41".
        #expect(ULID.encode(high: UInt64(1_469_918_176_385) << 16, low: 0).hasPrefix("01ARYZ6S41"))
        #expect(ULID.encode(high: 0, low: 1) == "00000000000000000000000001")
        #expect(ULID.encode(high: 1, low: 0) == "0000000000000G000000000000") // 2^64 = 16 · 32^12
    }

    @Test("ids are strictly increasing within a millisecond, across milliseconds, and when the clock steps back")
    func monotonic() {
        let generator = ULIDGenerator()
        var previous = ""
        let clock: [Int64] = Array(repeating: 1_000, count: 500) + [1_001, 1_001, 999, 5, 2_000, 2_000]
        for ms in clock {
            let id = generator.next(milliseconds: ms)
            #expect(id > previous, "\(id) after \(previous)")
            previous = id
        }
        // A step back keeps the last time rather than going back.
        #expect(ULID.milliseconds(of: previous) == 2_000)
    }

    @Test("random parts differ between generators (not a constant)")
    func random() {
        let a = ULIDGenerator().next(milliseconds: 1), b = ULIDGenerator().next(milliseconds: 1)
        #expect(a != b)
        #expect(a.prefix(10) == b.prefix(10))
    }

    @Test("isValid refuses wrong lengths, lower case, excluded letters and overflowing first characters")
    func validation() {
        #expect(!ULID.isValid(""))
        #expect(!ULID.isValid("0000000000000000000000000"))
        #expect(!ULID.isValid("01arYZ6S410000000000000000"))
        #expect(!ULID.isValid("01ARYZ6S41000000000000000U"))
        #expect(!ULID.isValid("80000000000000000000000000"))
        #expect(ULID.isValid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"))
    }

    @Test("issued jti values are ULIDs and sort in issue order")
    func issuedOrder() {
        let issuer = TestSupport.issuer()
        let ids = (0..<50).map { _ in
            issuer.issue(producer: TestSupport.producer, subject: nil, fingerprint: nil, ttlSeconds: nil,
                         nowSeconds: TestSupport.now).jti
        }
        #expect(ids.allSatisfy(ULID.isValid))
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
    }
}
