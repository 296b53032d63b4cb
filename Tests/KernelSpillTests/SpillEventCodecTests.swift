import KernelEvents
@testable import KernelPlugins
@testable import KernelSpill
import KernelStore
import KernelTestSupport
import Testing

@Suite("Spill event codec")
struct SpillEventCodecTests {
    @Test("generic events round trip, with and without optional fields")
    func genericRoundTrip() throws {
        for n in 0..<6 {
            var event = SpillFixtures.generic(n)
            var origin = SpillFixtures.origin(of: event)
            if n == 5 {
                event.tags = []
                event.sourcePayload = []
                origin.dlqID = ""
                event.payloadJSON = []
                origin.entryID = ""
            }
            let decoded = try SpillEventCodec.decode(SpillFixtures.encoded(event, origin: origin)[...])
            #expect(SpillFixtures.same(decoded.event, event))
            #expect(decoded.origin == origin)
            #expect(decoded.event.mayBeRedelivery, "replay always deduplicates")
            #expect(decoded.event.family == nil)
        }
    }

    @Test("the receive time round trips; a record without it (older versions) decodes as unknown (0)")
    func receivedAtRoundTrip() throws {
        var event = SpillFixtures.generic(1)
        event.receivedAtMicros = 1_796_000_000_123_456
        #expect(try SpillEventCodec.decode(SpillFixtures.encoded(event)[...]).event.receivedAtMicros == 1_796_000_000_123_456)
        event.receivedAtMicros = 0
        let old = SpillFixtures.encoded(event)
        #expect(old[1] & 0x04 == 0, "no receive-time flag: the layout of records written before it existed")
        #expect(try SpillEventCodec.decode(old[...]).event.receivedAtMicros == 0)
    }

    @Test("typed rows round trip with every ColumnValue case")
    func typedRoundTrip() throws {
        var event = SpillFixtures.typed(42, rows: 6)
        event.rows.append([.null, .text(""), .numeric("-0.000"), .int64(Int64.max), .float64(-.infinity),
                           .bool(false), .timestampNanos(Int64.min), .jsonb("[]"), .float64(.nan)])
        event.rows.append([])
        event.tsEventMicros = nil
        let decoded = try SpillEventCodec.decode(SpillFixtures.encoded(event)[...]).event
        #expect(SpillFixtures.same(decoded, event))
        #expect(decoded.family == SpillFixtures.trade)
        #expect(decoded.family?.columns.last?.allowedValues == ["buy", "sell", "unknown"])
        #expect(decoded.family?.columns[5].nullable == true)
        #expect(decoded.tsEventMicros == nil)
    }

    @Test("the payload JSON schema and column descriptions are not carried")
    func schemaDropped() throws {
        var family = SpillFixtures.trade
        family.payloadSchemaJSON = "{\"type\":\"object\"}"
        family.columns[0].description = "the venue"
        var event = SpillFixtures.typed(1)
        event.family = family
        let decoded = try SpillEventCodec.decode(SpillFixtures.encoded(event)[...]).event
        #expect(decoded.family?.payloadSchemaJSON == nil)
        #expect(decoded.family?.columns[0].description == nil)
        #expect(decoded.family?.columns.map(\.name) == family.columns.map(\.name))
        #expect(decoded.family?.versions == 1...3)
        #expect(decoded.family?.maxRowsPerEvent == 1000)
    }

    @Test("decoding a slice that does not start at index 0")
    func sliceOffset() throws {
        let event = SpillFixtures.typed(3)
        let bytes = [0xAA, 0xBB, 0xCC] + SpillFixtures.encoded(event) + [0xDD]
        let decoded = try SpillEventCodec.decode(bytes[3..<(bytes.count - 1)])
        #expect(SpillFixtures.same(decoded.event, event))
        #expect(decoded.origin == SpillFixtures.origin(of: event))
        #expect(throws: SpillFormatError.self) { try SpillEventCodec.decode(bytes[3...]) }
    }

    @Test("every truncation of a valid encoding throws badRecord")
    func truncations() {
        for event in [SpillFixtures.generic(4), SpillFixtures.typed(9, rows: 3)] {
            let bytes = SpillFixtures.encoded(event)
            for length in 0..<bytes.count {
                do {
                    _ = try SpillEventCodec.decode(bytes[0..<length])
                    Issue.record("a \(length)-byte prefix of \(bytes.count) decoded")
                } catch {
                    #expect(error.reasonCode == "spill_bad_record")
                }
            }
        }
    }

    @Test("thousands of seeded random byte flips never trap: each decodes or throws")
    func randomFlips() {
        var rng = SplitMix64(seed: 0xC0DEC)
        let samples = [SpillFixtures.encoded(SpillFixtures.generic(2)), SpillFixtures.encoded(SpillFixtures.typed(5, rows: 4))]
        var decoded = 0, refused = 0
        for i in 0..<6000 {
            var bytes = samples[i % samples.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[at] = UInt8.random(in: 0...255, using: &rng)
            }
            // Sometimes also cut or extend.
            if i % 5 == 0 { bytes.removeLast(Int.random(in: 0..<min(bytes.count, 40), using: &rng)) }
            if i % 7 == 0 { bytes += (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            do {
                _ = try SpillEventCodec.decode(bytes[...])
                decoded += 1
            } catch {
                refused += 1
            }
        }
        #expect(decoded + refused == 6000)
        #expect(refused > 0)
    }

    @Test("random garbage never traps")
    func randomGarbage() {
        var rng = SplitMix64(seed: 77)
        var refused = 0
        for _ in 0..<3000 {
            var bytes = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if !bytes.isEmpty { bytes[0] = SpillEventCodec.version }
            if bytes.count > 1 { bytes[1] &= 0x03 }
            if (try? SpillEventCodec.decode(bytes[...])) == nil { refused += 1 }
        }
        #expect(refused > 2900)
    }

    /// Builds an encoding by hand around a hostile piece.
    static func header(flags: UInt8 = 0) -> [UInt8] {
        var out: [UInt8] = [SpillEventCodec.version, flags]
        out.appendLE(UInt32(1)); out.append(UInt8(ascii: "e"))   // entry id
        out += [UInt8](repeating: 1, count: 16)                     // event id
        out.appendLE(Int64(5))                                      // ts
        out += [UInt8](repeating: 2, count: 48)                     // subject, producer, schema
        return out
    }

    static func tail(rows: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLE(UInt32(0))      // payload
        out += rows
        out.appendLE(UInt32(0))      // tags
        out.appendLE(UInt32(0))      // source payload
        out.appendLE(UInt32(0))      // dlq id
        return out
    }

    @Test("hand-built minimal encoding decodes; hostile variants are refused with a reason")
    func hostileVariants() throws {
        let minimal = Self.header() + Self.tail()
        let (event, origin) = try SpillEventCodec.decode(minimal[...])
        #expect(origin == EventOrigin(entryID: "e", dlqID: "") && event.tsMicros == 5 && event.family == nil)
        #expect(SpillFixtures.encoded(event, origin: origin) == minimal,
                "the origin is written where the entry id and DLQ id always were: older segments still replay")

        func refused(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try SpillEventCodec.decode(bytes[...])
                Issue.record("decoded", sourceLocation: sourceLocation)
            } catch {
                #expect(error.reasonCode == "spill_bad_record", sourceLocation: sourceLocation)
                #expect("\(error)".contains(fragment), "\(error)", sourceLocation: sourceLocation)
            }
        }
        // Version and flags.
        refused([2] + minimal.dropFirst(), "version 2")
        refused([1, 0x80] + minimal.dropFirst(2), "unknown event flags")
        // Invalid UTF-8 in the entry id.
        var badUTF8 = minimal
        badUTF8[6] = 0xFF
        refused(badUTF8, "not valid UTF-8")
        // A lying string length.
        var lying = minimal
        lying.storeLE(0xFFFF_FFF0, at: 2)
        refused(lying, "exceeds the remaining")
        // A row count of 2^32-1 must be refused before any allocation.
        var hugeRows: [UInt8] = []
        hugeRows.appendLE(UInt32.max)
        refused(Self.header() + Self.tail(rows: hugeRows), "row count")
        // A value count that cannot fit.
        var hugeValues: [UInt8] = []
        hugeValues.appendLE(UInt32(1)); hugeValues.appendLE(UInt32(0x7FFF_FFFF))
        refused(Self.header() + Self.tail(rows: hugeValues), "value count")
        // Unknown value tag, bad bool byte.
        var badTag: [UInt8] = []
        badTag.appendLE(UInt32(1)); badTag.appendLE(UInt32(1)); badTag.append(99)
        refused(Self.header() + Self.tail(rows: badTag), "unknown column value tag 99")
        var badBool: [UInt8] = []
        badBool.appendLE(UInt32(1)); badBool.appendLE(UInt32(1)); badBool += [5, 2]
        refused(Self.header() + Self.tail(rows: badBool), "neither 0 nor 1")
        // Trailing bytes.
        refused(minimal + [0], "trailing")
    }

    @Test("hostile family descriptors are refused")
    func hostileFamilies() {
        func family(min: UInt32 = 1, max: UInt32 = 1, maxRows: Int64 = 1, columnType: UInt8 = 1,
                    columnFlags: UInt8 = 0, columnCount: UInt32 = 1) -> [UInt8] {
            var out = Self.header(flags: SpillEventCodec.flagHasFamily)
            SpillEventCodec.appendString("fam", to: &out)
            out.appendLE(min); out.appendLE(max); out.appendLE(maxRows)
            out.appendLE(columnCount)
            SpillEventCodec.appendString("col", to: &out)
            out.append(columnType); out.append(columnFlags)
            return out + Self.tail()
        }
        #expect(throws: Never.self) { try SpillEventCodec.decode(family()[...]) }
        for (bytes, fragment) in [
            (family(min: 3, max: 2), "min version 3 > max version 2"),
            (family(maxRows: -1), "negative max rows"),
            (family(columnType: 0), "unknown column type 0"),
            (family(columnType: 9), "unknown column type 9"),
            (family(columnFlags: 0x04), "unknown column flags"),
            (family(columnFlags: 0x02), "truncated"),  // the allowed-values list eats the tail
            (family(columnCount: UInt32.max), "column count"),
        ] {
            do {
                _ = try SpillEventCodec.decode(bytes[...])
                Issue.record("decoded: \(fragment)")
            } catch {
                #expect("\(error)".contains(fragment), "\(error)")
            }
        }
    }
}
