import KernelEvents

/// Everything a plugin produced for one event.
public struct NormalizedEvent: Sendable, Equatable {
    /// The normalized payload JSON, or nil when the plugin kept the input payload as it was.
    public var payloadJSON: String?
    public var tags: [Tag]
    /// Exchange/event time (Unix ns) if the plugin set one.
    public var eventTimeNanos: Int64?
    /// Typed rows, one array of values per row in the family's column order.
    public var rows: [[ColumnValue]]

    public init(payloadJSON: String? = nil, tags: [Tag] = [], eventTimeNanos: Int64? = nil, rows: [[ColumnValue]] = []) {
        self.payloadJSON = payloadJSON
        self.tags = tags
        self.eventTimeNanos = eventTimeNanos
        self.rows = rows
    }
}

/// A plugin's refusal of one event: the event goes to the DLQ as `normalize_failed` with `message`.
public struct NormalizeFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidPayload = "invalid_payload"
        case unsupportedVersion = "unsupported_version"
        case pluginError = "plugin_error"
        /// The plugin said OK but its output broke the family's declared contract.
        case badOutput = "bad_output"
    }
    public var kind: Kind
    public var message: String
    public init(kind: Kind, message: String) { self.kind = kind; self.message = message }
    public var description: String { "\(kind.rawValue): \(message)" }
}

/// The input handed to a plugin for one event.
///
/// The ingest path builds it without copies: the payload is a slice of the stream entry's bytes,
/// and the ids stay `EventUUID`s, printed straight into the C arena
/// (`init(family:schemaVersion:eventUUID:subjectUUID:tsUnixNanos:payload:)`).
public struct EventInput: Sendable {
    enum IDs: Sendable {
        case text(event: String, subject: String)
        case uuids(event: EventUUID, subject: EventUUID)
    }

    public var family: String
    public var schemaVersion: UInt32
    var ids: IDs
    public var tsUnixNanos: Int64
    /// The envelope's `payload` member, exact bytes.
    public var payloadBytes: ArraySlice<UInt8>

    public init(family: String, schemaVersion: UInt32, eventID: String, subjectID: String,
                tsUnixNanos: Int64, payload: [UInt8]) {
        self.family = family
        self.schemaVersion = schemaVersion
        self.ids = .text(event: eventID, subject: subjectID)
        self.tsUnixNanos = tsUnixNanos
        self.payloadBytes = payload[...]
    }

    public init(family: String, schemaVersion: UInt32, eventUUID: EventUUID, subjectUUID: EventUUID,
                tsUnixNanos: Int64, payload: ArraySlice<UInt8>) {
        self.family = family
        self.schemaVersion = schemaVersion
        self.ids = .uuids(event: eventUUID, subject: subjectUUID)
        self.tsUnixNanos = tsUnixNanos
        self.payloadBytes = payload
    }

    /// Lower-case canonical UUID text.
    public var eventID: String {
        get {
            switch ids {
            case .text(let e, _): e
            case .uuids(let e, _): e.description
            }
        }
        set { ids = .text(event: newValue, subject: subjectID) }
    }

    public var subjectID: String {
        get {
            switch ids {
            case .text(_, let s): s
            case .uuids(_, let s): s.description
            }
        }
        set { ids = .text(event: eventID, subject: newValue) }
    }

    /// The envelope's `payload` member, exact bytes.
    public var payload: [UInt8] {
        get { Array(payloadBytes) }
        set { payloadBytes = newValue[...] }
    }

    /// Appends the event id's text to `arena` (no intermediate `String` on the ingest path).
    func appendEventID(to arena: inout [UInt8]) {
        switch ids {
        case .text(let e, _): arena.append(contentsOf: e.utf8)
        case .uuids(let e, _): e.appendText(to: &arena)
        }
    }

    func appendSubjectID(to arena: inout [UInt8]) {
        switch ids {
        case .text(_, let s): arena.append(contentsOf: s.utf8)
        case .uuids(_, let s): s.appendText(to: &arena)
        }
    }
}
