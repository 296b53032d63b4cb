import KernelEvents
import KernelSchema

/// One accepted, normalized event on its way to Postgres: what the store writes for it.
/// A typed family's rows go to `md_<family>` (one row per `rows` element); a generic event's
/// payload JSON goes to `events`. Tags go on the rows (`tag_ids`) either way.
///
/// Nothing here names where the event came from (its Redis stream entry, its DLQ id): the store
/// reports each event by its index in the batch (`WriteReport`), and the caller keeps the
/// origins beside the batch (docs/architecture.md, "Storage").
public struct StoredEvent: Sendable {
    public var eventID: EventUUID
    /// Envelope time, Unix microseconds (Postgres keeps µs).
    public var tsMicros: Int64
    /// Exchange/event time from the plugin, Unix microseconds.
    public var tsEventMicros: Int64?
    public var subjectID: EventUUID
    public var producerID: EventUUID
    public var schemaID: EventUUID
    /// The typed family this event is stored under, or nil for the generic `events` table.
    public var family: FamilyDescriptor?
    /// For generic events: the payload JSON to store (the input payload, or the plugin's
    /// normalized payload). Unused for typed families.
    public var payloadJSON: [UInt8]
    /// Typed rows (empty for generic events).
    public var rows: [[ColumnValue]]
    public var tags: [Tag]
    /// True when this entry may have been delivered before (read from a pending list or claimed),
    /// so the write must deduplicate. First deliveries may take the direct path.
    public var mayBeRedelivery: Bool
    /// The stream entry's original `payload` field: the event's identity digest is taken over it
    /// (`EventDigest`), and a row Postgres refuses is dead-lettered with the bytes the producer
    /// sent (set by the pipeline; not stored as a column).
    public var sourcePayload: [UInt8] = []
    /// When the kernel read the entry, Unix microseconds (`received_at`); 0 = not known (tools,
    /// spill records of older versions): the writer's clock at write time stands in.
    public var receivedAtMicros: Int64 = 0

    public init(eventID: EventUUID, tsMicros: Int64, tsEventMicros: Int64?, subjectID: EventUUID,
                producerID: EventUUID, schemaID: EventUUID, family: FamilyDescriptor?, payloadJSON: [UInt8],
                rows: [[ColumnValue]], tags: [Tag], mayBeRedelivery: Bool) {
        self.eventID = eventID
        self.tsMicros = tsMicros
        self.tsEventMicros = tsEventMicros
        self.subjectID = subjectID
        self.producerID = producerID
        self.schemaID = schemaID
        self.family = family
        self.payloadJSON = payloadJSON
        self.rows = rows
        self.tags = tags
        self.mayBeRedelivery = mayBeRedelivery
    }
}
