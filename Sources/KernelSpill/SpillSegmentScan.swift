/// A read-only check of one segment (for `kernel spill status`): how many records decode, what is
/// damaged, and the span of envelope times. Streams through the file with bounded memory.
public struct SpillSegmentScan: Sendable, Equatable {
    public var path: String
    /// The file's size when scanned.
    public var bytes: Int
    /// The creation time from the header, nil when the header is bad.
    public var createdAtNanos: Int64?
    /// Records whose frame and event encoding are both valid (what replay would write).
    public var records: Int
    /// Damaged stretches of framing, and records that framed fine but did not decode
    /// (`.badRecord`), in file order.
    public var damage: [SpillDamage]
    /// Smallest and largest `tsMicros` of the valid records (nil when there are none).
    public var oldestMicros: Int64?
    public var newestMicros: Int64?

    /// Scans `path`. Throws only for I/O errors; damage is listed, not thrown.
    public init(path: String) throws(SpillFormatError) {
        var reader = try SpillSegmentReader(path: path)
        self.path = path
        bytes = Int(reader.fileSize)
        createdAtNanos = reader.header?.createdAtNanos
        records = 0
        damage = []
        while let item = try reader.next() {
            switch item {
            case .damage(let found):
                damage.append(found)
            case let .record(offset, payload):
                do throws(SpillFormatError) {
                    let event = try SpillEventCodec.decode(payload[...]).event
                    records += 1
                    oldestMicros = min(oldestMicros ?? event.tsMicros, event.tsMicros)
                    newestMicros = max(newestMicros ?? event.tsMicros, event.tsMicros)
                } catch {
                    let detail = if case .badRecord(let text) = error { text } else { error.description }
                    damage.append(SpillDamage(file: path, offset: offset,
                                              length: Int64(SpillSegmentFormat.recordHeaderSize + payload.count),
                                              kind: .badRecord, detail: detail))
                }
            }
        }
    }
}
