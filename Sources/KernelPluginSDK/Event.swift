import KernelPluginABI

/// One event as the host hands it to `normalize` (`kp_event`).
///
/// A view over host memory: valid only during the `normalize` call that received it. Do not
/// store it, its `payloadBytes`, or anything derived from them without copying.
public struct Event {
    let raw: UnsafePointer<kp_event>

    init(_ raw: UnsafePointer<kp_event>) { self.raw = raw }

    /// Nesting limit for `payload()`: deep enough for any market-data payload, shallow enough
    /// that a hostile payload cannot exhaust the stack.
    public static let defaultMaxDepth = 64

    /// The family of the subject's current schema, e.g. `"trade"`.
    public var family: String { raw.pointee.family.map { String(cString: $0) } ?? "" }
    /// The schema version (already checked against the family's range by the SDK).
    public var schemaVersion: UInt32 { raw.pointee.schema_version }
    /// Canonical lower-case UUID text of the event.
    public var eventID: String { raw.pointee.event_id.map { String(cString: $0) } ?? "" }
    /// Canonical lower-case UUID text of the subject.
    public var subjectID: String { raw.pointee.subject_id.map { String(cString: $0) } ?? "" }
    /// The envelope's `ts`, Unix nanoseconds.
    public var tsUnixNanos: Int64 { raw.pointee.ts_unix_ns }
    /// The payload's exact bytes as published (a JSON object).
    public var payloadBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw.pointee.payload_json, count: raw.pointee.payload_json == nil ? 0 : raw.pointee.payload_len)
    }

    /// Parses the payload; malformed JSON is an `invalidPayload` error naming the reason.
    public func payload(maxDepth: Int = Event.defaultMaxDepth) throws(NormalizeError) -> JSONValue {
        do {
            return try JSONParser.parse(payloadBytes, maxDepth: maxDepth)
        } catch {
            throw .invalidPayload("payload is not valid JSON: \(error)")
        }
    }

    /// Parses the payload and requires a JSON object, the shape every family uses.
    public func payloadObject(maxDepth: Int = Event.defaultMaxDepth) throws(NormalizeError) -> PayloadObject {
        // The usual case: a well-formed object, scanned once, members decoded as they are asked for.
        if let scanned = PayloadObject(scanning: payloadBytes, maxDepth: maxDepth) { return scanned }
        // Otherwise the parser says why.
        let value = try payload(maxDepth: maxDepth)
        guard case .object(let object) = value else {
            throw .invalidPayload("payload must be a JSON object, got \(PayloadObject.kind(of: value))")
        }
        return PayloadObject(object)
    }
}
