import KernelCrypto
import KernelEvents

/// What an event said, in 16 bytes: the first half of SHA-256 over the entry's payload as the
/// producer sent it (`StoredEvent.sourcePayload`). Stored with the event's identity, it tells a
/// redelivered or re-sent copy (same digest: a duplicate) from another event that reuses the
/// event_id (an `event_id_conflict`). A cryptographic hash because producers choose the bytes:
/// a fast non-cryptographic one would let a crafted copy pass for a duplicate.
struct EventDigest: Equatable {
    var bytes: (UInt64, UInt64)

    static func == (a: EventDigest, b: EventDigest) -> Bool { a.bytes == b.bytes }

    /// `sha` is a SHA-256 context (the writer's: one per writer, reused for every event).
    /// The event is read through a pointer into the batch for the reason `BatchPlan.encodeTyped`'s is.
    init(_ pointer: UnsafePointer<StoredEvent>, using sha: DigestContext) {
        if !pointer.pointee.sourcePayload.isEmpty {
            bytes = pointer.pointee.sourcePayload.withUnsafeBufferPointer { EventDigest.half(sha, UnsafeRawBufferPointer($0)) }
        } else {
            bytes = EventDigest.standIn(pointer.pointee, using: sha)
        }
    }

    /// What is stored stands for the source bytes (events built by tools and tests have none).
    private static func standIn(_ event: borrowing StoredEvent, using sha: DigestContext) -> (UInt64, UInt64) {
        var text = Array("\(event.eventID) \(event.tsMicros) \(event.subjectID) ".utf8)
        text += event.payloadJSON
        text += Array(String(describing: event.rows).utf8)
        return text.withUnsafeBufferPointer { EventDigest.half(sha, UnsafeRawBufferPointer($0)) }
    }

    /// The first 16 bytes of the digest, without an allocation per event.
    private static func half(_ sha: DigestContext, _ data: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var out: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &out) { sha.digest(data, into: $0) }
        return (out.0, out.1)
    }
}

extension TupleBuffer {
    mutating func bytea(_ digest: (UInt64, UInt64)) {
        withUnsafeBytes(of: digest) { bytea($0) }
    }
}
