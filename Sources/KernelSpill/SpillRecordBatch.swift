import KernelStore

/// A batch of events encoded and framed as records, ready to append: one contiguous byte array and
/// where each record ends. Built outside the appender's lock, so writer threads encode in parallel.
struct SpillRecordBatch {
    var bytes: [UInt8] = []
    /// `bytes` offset just past each record.
    var recordEnds: [Int] = []

    /// `origins[i]` is where `events[i]` came from.
    init(_ events: [StoredEvent], origins: [EventOrigin]) throws(SpillError) {
        precondition(events.count == origins.count, "one origin per event")
        recordEnds.reserveCapacity(events.count)
        var cache = SpillEventCodec.FamilyCache()
        for i in events.indices {
            let start = bytes.count
            bytes.appendLE(SpillSegmentFormat.recordMagic)
            bytes.appendLE(UInt32(0))  // length, patched below
            bytes.appendLE(UInt32(0))  // CRC, patched below
            let payloadStart = bytes.count
            SpillEventCodec.encode(events[i], origin: origins[i], into: &bytes, cache: &cache)
            let length = bytes.count - payloadStart
            guard length <= SpillSegmentFormat.maxRecordPayload else {
                throw .recordTooLarge(bytes: length, maxBytes: SpillSegmentFormat.maxRecordPayload)
            }
            bytes.storeLE(UInt32(length), at: start + 4)
            let crc = bytes.withUnsafeBytes { raw in
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[payloadStart..<bytes.count]),
                                seed: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(start + 4)..<(start + 8)])))
            }
            bytes.storeLE(crc, at: start + 8)
            recordEnds.append(bytes.count)
        }
    }

    var recordCount: Int { recordEnds.count }

    /// The framed size of `events` (what `append` checks against the budget).
    static func encodedSize(_ events: [StoredEvent], origins: [EventOrigin]) -> Int {
        (try? SpillRecordBatch(events, origins: origins).bytes.count) ?? 0
    }
}
