/// One step of reading a segment: a record's payload, or a damaged stretch that was skipped.
public enum SpillReadItem: Sendable, Equatable {
    /// A record whose CRC checked out; `offset` is where its frame starts in the file.
    case record(offset: Int64, payload: [UInt8])
    case damage(SpillDamage)
}
