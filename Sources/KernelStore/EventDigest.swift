import COpenSSL
import KernelEvents

/// What an event said, in 16 bytes: the first half of SHA-256 over the entry's payload as the
/// producer sent it (`StoredEvent.sourcePayload`). Stored with the event's identity, it tells a
/// redelivered or re-sent copy (same digest: a duplicate) from another event that reuses the
/// event_id (an `event_id_conflict`). A cryptographic hash because producers choose the bytes:
/// a fast non-cryptographic one would let a crafted copy pass for a duplicate.
struct EventDigest: Equatable {
    var bytes: (UInt64, UInt64)

    static func == (a: EventDigest, b: EventDigest) -> Bool { a.bytes == b.bytes }

    init(_ event: borrowing StoredEvent) {
        if !event.sourcePayload.isEmpty {
            bytes = event.sourcePayload.withUnsafeBufferPointer { Self.sha256(UnsafeRawBufferPointer($0)) }
        } else {
            // No source bytes (events built by tools and tests): what is stored stands for them.
            var text = Array("\(event.eventID) \(event.tsMicros) \(event.subjectID) ".utf8)
            text += event.payloadJSON
            text += Array(String(describing: event.rows).utf8)
            bytes = text.withUnsafeBufferPointer { Self.sha256(UnsafeRawBufferPointer($0)) }
        }
    }

    private static func sha256(_ data: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var md: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &md) { out in
            _ = SHA256(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count,
                       out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return (md.0, md.1)
    }
}

extension TupleBuffer {
    mutating func bytea(_ digest: (UInt64, UInt64)) {
        withUnsafeBytes(of: digest) { bytea($0) }
    }
}
