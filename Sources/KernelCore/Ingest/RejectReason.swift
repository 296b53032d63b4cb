import KernelEvents
/// Why an event was dead-lettered. The raw value is the reason code, identical in the DLQ
/// `reason` field, in log lines (`reason_code`) and in the `kernel_redis_dlq_total{reason}` metric.
/// Listed in the order the checks run (docs/protocol.md, "Ingest checks, in order").
public enum RejectReason: String, Sendable, CaseIterable {
    case messageTooLarge = "message_too_large"
    case emptyPayload = "empty_payload"
    case unauthenticated = "unauthenticated"
    case producerDisabled = "producer_disabled"
    case badEventJSON = "bad_event_json"
    case tsOutOfRange = "ts_out_of_range"
    case subjectMismatchToken = "subject_mismatch_token"
    case producerSubjectForbidden = "producer_subject_forbidden"
    case missingSubjectSchema = "missing_subject_schema"
    case normalizeFailed = "normalize_failed"
    case poisonMessage = "poison_message"
    case persistFailed = "persist_failed"
    /// The event_id is already stored with other content: first write wins (docs/producers.md).
    case eventIDConflict = "event_id_conflict"
    /// The event would add tags to the global dictionary past its producer's budget
    /// (`server.max_tags_per_producer`); replay it once the budget is raised.
    case tagBudgetExceeded = "tag_budget_exceeded"
}

/// An entry on its way to the DLQ. `detail` is human text and never contains the token.
public struct DeadLetter: Error, Sendable {
    public var entry: StreamEntry
    public var reason: RejectReason
    public var detail: String
    /// The producer whose token the entry carried, once that token was checked (nil for
    /// entries refused before: size, payload, token, and poison). Recorded in the DLQ entry so
    /// `kernel dlq replay` can re-inject the event in that producer's name.
    public var producer: EventUUID?

    public init(entry: StreamEntry, reason: RejectReason, detail: String, producer: EventUUID? = nil) {
        self.entry = entry
        self.reason = reason
        self.detail = detail
        self.producer = producer
    }
}

/// Work for the acknowledger: entries whose events are durable, or entries to dead-letter first.
public enum AckWork: Sendable {
    /// Entry references (`StreamEntry.ref`) whose events are durable.
    case ack([String])
    /// The same, for a committed batch whose earliest entry was read at `readAtMicros` (for
    /// `kernel_redis_ack_latency_seconds`).
    case ackBatch([String], readAtMicros: Int64)
    case deadLetter(DeadLetter)
}
