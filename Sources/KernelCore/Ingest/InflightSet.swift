import Synchronization

/// Entry references (`StreamEntry.ref`) handed to the pipeline and not yet acknowledged. The reader consults it when it
/// re-reads its pending list after a reconnect, so an entry still being processed is not
/// processed twice; shutdown waits for it to empty.
///
/// Keyed by the entry id's two numbers and the shard (`EntryKey`), not by the reference text:
/// hashing and comparing the strings, once on admission and once on release, cost ~0.4 µs per
/// event, the largest item left on the reader and acknowledger threads.
public final class InflightSet: Sendable {
    private struct State {
        var keys = Set<EntryKey>()
        /// References that are not `ms-seq` ids (never from Redis; kept exact all the same).
        var other = Set<String>()
    }
    private let state = Mutex(State())

    public init() {}

    /// Adds ids; returns those that were not already in flight.
    public func admit(_ entries: [StreamEntry]) -> [StreamEntry] {
        state.withLock { state in
            var refused: [Int] = []
            // Through a buffer pointer: enumerating the array copied every entry.
            entries.withUnsafeBufferPointer { entries in
                for i in entries.indices {
                    let inserted = if let key = EntryKey(shard: entries[i].shard, id: entries[i].id) {
                        state.keys.insert(key).inserted
                    } else {
                        state.other.insert(entries[i].ref).inserted
                    }
                    if !inserted { refused.append(i) }
                }
            }
            // The usual case hands the array back as it is (filtering copied every entry).
            guard !refused.isEmpty else { return entries }
            var kept = entries
            for i in refused.reversed() { kept.remove(at: i) }
            return kept
        }
    }

    public func contains(_ ref: String) -> Bool {
        let key = EntryKey(ref: ref)
        return state.withLock { state in
            if let key { return state.keys.contains(key) }
            return state.other.contains(ref)
        }
    }

    public func release(_ refs: [String]) {
        state.withLock { state in
            for ref in refs {
                if let key = EntryKey(ref: ref) { state.keys.remove(key) } else { state.other.remove(ref) }
            }
        }
    }

    /// Releases entries by key (the acknowledger parsed their references already), and the
    /// references that are not Redis entry ids.
    func release(keys: [EntryKey], others: [String]) {
        state.withLock { state in
            for key in keys { state.keys.remove(key) }
            for ref in others { state.other.remove(ref) }
        }
    }

    public var count: Int { state.withLock { $0.keys.count + $0.other.count } }
}

/// A stream entry's identity as numbers: the shard (-1: unsharded) and the id's milliseconds and
/// sequence. nil for text that is not a Redis entry id. Hashed over all three (synthesized):
/// producers may choose entry ids (XADD with an explicit id), so a pre-mixed word could be made
/// to collide.
struct EntryKey: Hashable {
    var shard: Int
    var millis: UInt64
    var sequence: UInt64

    init?(shard: Int?, id: String) {
        // The same range `init(ref:)` accepts, so an entry gets one key on admission and release.
        if let shard, shard < 0 || shard > Int(Int32.max) { return nil }
        var id = id
        guard let parsed = id.withUTF8({ Self.parse($0, from: 0, to: $0.count) }) else { return nil }
        self.shard = shard ?? -1
        (millis, sequence) = parsed
    }

    /// From an entry reference, `<shard>/<id>` or `<id>` (`EntryRef`).
    init?(ref: String) {
        var ref = ref
        guard let found = ref.withUTF8({ bytes -> (Int, UInt64, UInt64)? in
            guard let slash = Self.index(of: UInt8(ascii: "/"), in: bytes, from: 0, to: bytes.count) else {
                return Self.parse(bytes, from: 0, to: bytes.count).map { (-1, $0.0, $0.1) }
            }
            guard let shard = Self.number(bytes, from: 0, to: slash), shard <= UInt64(Int32.max),
                  let id = Self.parse(bytes, from: slash + 1, to: bytes.count) else { return nil }
            return (Int(shard), id.0, id.1)
        }) else { return nil }
        (shard, millis, sequence) = found
    }

    /// Appends the Redis entry id, `<millis>-<sequence>`: the text it was parsed from, since
    /// parsing refuses leading zeros.
    func appendID(to bytes: inout [UInt8]) {
        bytes.append(contentsOf: String(millis).utf8)   // small strings: no allocation
        bytes.append(UInt8(ascii: "-"))
        bytes.append(contentsOf: String(sequence).utf8)
    }

    // Plain index loops over the bytes: the generic `firstIndex(of:)` on a slice compared each
    // byte through `Equatable`'s witness, a call per byte on every admission and release.

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (UInt64, UInt64)? {
        guard let dash = index(of: UInt8(ascii: "-"), in: bytes, from: start, to: end),
              let ms = number(bytes, from: start, to: dash), let seq = number(bytes, from: dash + 1, to: end) else { return nil }
        return (ms, seq)
    }

    private static func index(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var i = start
        while i < end {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// Decimal digits only, 1–19 of them, so the value is exact and the text canonical enough
    /// (a leading zero is another entry's text: refused, so it stays in the exact string set).
    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt64? {
        let count = end - start
        guard count > 0, count <= 19, count == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        var n: UInt64 = 0
        var i = start
        while i < end {
            let d = bytes[i]
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + UInt64(d - UInt8(ascii: "0"))
            i += 1
        }
        return n
    }

}
