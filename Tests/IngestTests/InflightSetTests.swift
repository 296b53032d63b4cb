@testable import KernelCore
import Testing

/// The in-flight set keys entries by the numbers of their ids; whatever the reference text, an
/// entry admitted under one name must be found and released under the same name, and never under
/// another entry's name.
@Suite("InflightSet")
struct InflightSetTests {
    private func entry(_ id: String, shard: Int? = nil) -> StreamEntry {
        StreamEntry(id: id, shard: shard, payload: [1], token: [1], clientID: nil, deliveries: 1,
                    mayBeRedelivery: false, deleted: false)
    }

    @Test("admitted entries are in flight under their reference until released")
    func admitContainsRelease() {
        let set = InflightSet()
        let entries = [entry("1764081000000-0"), entry("1764081000000-1"), entry("0-1"), entry("18446744073709551615-7"),
                       entry("1764081000000-0", shard: 3), entry("1764081000000-0", shard: 0)]
        #expect(set.admit(entries).count == entries.count)
        #expect(set.count == entries.count)
        for e in entries { #expect(set.contains(e.ref), "\(e.ref)") }
        #expect(set.contains("3/1764081000000-0"))
        #expect(!set.contains("4/1764081000000-0"))
        #expect(!set.contains("1764081000000-2"))
        #expect(!set.contains("1/1764081000000-0"))

        set.release(["3/1764081000000-0", "1764081000000-1"])
        #expect(!set.contains("3/1764081000000-0"))
        #expect(set.contains("0/1764081000000-0"))
        #expect(set.contains("1764081000000-0"))
        #expect(!set.contains("1764081000000-1"))
        #expect(set.count == entries.count - 2)
        set.release(entries.map(\.ref))
        #expect(set.count == 0)
    }

    @Test("an entry already in flight is refused; the rest keep their order")
    func duplicatesRefused() {
        let set = InflightSet()
        _ = set.admit([entry("5-1"), entry("5-3", shard: 2)])
        let again = set.admit([entry("5-0"), entry("5-1"), entry("5-2"), entry("5-3", shard: 2), entry("5-3")])
        #expect(again.map(\.ref) == ["5-0", "5-2", "5-3"])
        #expect(set.count == 5)
    }

    @Test("references that are not numeric ids are kept exactly, as text")
    func hostileReferences() {
        let set = InflightSet()
        // Leading zeros, signs, spaces, overflow, no dash, empty parts, a negative shard, non-ASCII:
        // each distinct text is its own entry, and none collides with the canonical id.
        let odd = ["01-1", "1-01", "+1-1", " 1-1", "1-1 ", "99999999999999999999-1", "1", "1-", "-1", "",
                   "-1/1-1", "x/1-1", "2147483648/1-1", "1/1/1-1", "1–1", "１-1"]
        let admitted = set.admit(odd.map { entry($0) })
        #expect(admitted.count == odd.count)
        #expect(set.admit([entry("1-1")]).count == 1, "the canonical id is not any of the odd texts")
        for text in odd { #expect(set.contains(text), "\(text)") }
        #expect(set.admit(odd.map { entry($0) }).isEmpty)
        set.release(odd)
        #expect(set.count == 1)
        #expect(set.contains("1-1"))
        // A negative or huge shard is named by its text too, consistently on both sides.
        let sharded = [entry("1-1", shard: -1), entry("1-1", shard: Int(Int32.max) + 1)]
        #expect(set.admit(sharded).count == 2)
        #expect(set.contains("-1/1-1") && set.contains("2147483648/1-1"))
        set.release(sharded.map(\.ref))
        #expect(set.count == 1)
    }

    @Test("the acknowledger's parse: a key prints back the id it was read from, and releases by key")
    func keysPrintTheirIDsAndRelease() {
        let refs = ["0-0", "0-1", "1764081000000-0", "1764081000000-12", "9223372036854775807-9999999999999999999",
                    "3/1764081000000-7", "0/5-5", "2147483647/9-9"]
        for ref in refs {
            guard let key = EntryKey(ref: ref) else {
                Issue.record("\(ref) did not parse")
                continue
            }
            var id: [UInt8] = []
            key.appendID(to: &id)
            let split = EntryRef.split(ref)
            #expect(String(decoding: id, as: UTF8.self) == String(split.id), "\(ref)")
            #expect((key.shard < 0 ? nil : key.shard) == split.shard, "\(ref)")
        }
        let set = InflightSet()
        let entries = [entry("1764081000000-12"), entry("1764081000000-7", shard: 3), entry("01-1"), entry("5-5")]
        _ = set.admit(entries)
        set.release(keys: ["1764081000000-12", "3/1764081000000-7"].compactMap(EntryKey.init(ref:)), others: ["01-1"])
        #expect(!set.contains("1764081000000-12") && !set.contains("3/1764081000000-7") && !set.contains("01-1"))
        #expect(set.contains("5-5") && set.count == 1)
    }

    @Test("a reference splits into its shard and id at the first slash only")
    func referencesSplit() {
        #expect(EntryRef.split("7/12-3") == (7, "12-3"))
        #expect(EntryRef.split("12-3") == (nil, "12-3"))
        #expect(EntryRef.split("x/12-3") == (nil, "x/12-3"))
        #expect(EntryRef.split("1/2/3-4") == (1, "2/3-4"))
        #expect(EntryRef.split("/1-1") == (nil, "/1-1"))
        #expect(EntryRef.split("") == (nil, ""))
    }
}
