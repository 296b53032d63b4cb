import KernelJSON

/// The kernel-checked fields of one event (docs/protocol.md, "Event envelope"), pulled out of its JSON in a single pass; the
/// payload stays in the input bytes, located by `payloadRange`, so it is never re-encoded.
public struct EventEnvelope: Sendable, Equatable {
    public var eventID: EventUUID
    /// `ts` as Unix nanoseconds, UTC (offsets applied).
    public var tsNanos: Int64
    public var subjectID: EventUUID
    /// The exact bytes of the `payload` member's value (an object, braces included) in the input.
    public var payloadRange: Range<Int>
    /// The usable `tags` items, in input order (see `parse`).
    public var tags: [EnvelopeTag]

    public init(eventID: EventUUID, tsNanos: Int64, subjectID: EventUUID, payloadRange: Range<Int>,
                tags: [EnvelopeTag]) {
        self.eventID = eventID
        self.tsNanos = tsNanos
        self.subjectID = subjectID
        self.payloadRange = payloadRange
        self.tags = tags
    }

    /// Checks an event's JSON and extracts its envelope.
    ///
    /// Rules (docs/protocol.md, "Event envelope"), checked in this order:
    /// - the input must be well-formed JSON (`malformed_json`, nesting limit 64) whose top level is
    ///   an object (`not_object`);
    /// - all of it must be well-formed UTF-8 (`invalid_utf8`), and no string, member names
    ///   included, may hold a `\u0000` escape (`nul_character`) or a `\u` escape of a lone surrogate
    ///   (`lone_surrogate`): the JSON parser would turn them into U+FFFD, U+0000 and U+FFFD, and
    ///   the kernel stores nothing repaired. The detail gives the byte offset and the field;
    /// - `event_id`, `ts`, `subject_id`: absent, `null` or `""` is `missing_*`; any other non-string,
    ///   or a string that is not UUID text (any version, either case) / not RFC 3339 (see
    ///   `RFC3339`) is `bad_*`. Strings may use JSON escapes; they are decoded first;
    /// - `payload` must be present (`missing_payload`) and an object (`payload_not_object`);
    /// - `tags` is optional: anything but an array means no tags; items that are not objects, or whose
    ///   `key`/`value` is absent or not a string, are skipped; items whose decoded key or value is
    ///   empty are dropped (the database refuses empty tags). The usable items are limited by
    ///   `limits`: more than `maxTags` is `too_many_tags`, a decoded key or value longer than its
    ///   byte limit is `tag_key_too_long` / `tag_value_too_long`. Duplicate members: the last one wins.
    ///
    /// The time window is not checked here (it depends on the clock): see `TimeWindow`.
    public static func parse(_ bytes: UnsafeRawBufferPointer,
                             limits: EnvelopeLimits = .standard) throws(EnvelopeError) -> EventEnvelope {
        let result = withUnsafeTemporaryAllocation(of: (kind: JSONScanner.Kind, range: Range<Int>).self,
                                                   capacity: EnvelopeKeys.top.count) { found -> Result<EventEnvelope, EnvelopeError> in
            JSONScanner.fields(EnvelopeKeys.top, in: bytes, into: found)
            do throws(EnvelopeError) {
                return .success(try parse(bytes, found: UnsafeBufferPointer(found), limits: limits))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// `parse` on the members `JSONScanner.fields` found for `EnvelopeKeys.top`.
    private static func parse(_ bytes: UnsafeRawBufferPointer,
                              found: UnsafeBufferPointer<(kind: JSONScanner.Kind, range: Range<Int>)>,
                              limits: EnvelopeLimits) throws(EnvelopeError) -> EventEnvelope {
        guard found[0].kind != .error else {
            let why = JSONScanner.validate(bytes)?.description ?? "not well-formed"
            throw EnvelopeError(.malformedJSON, detail: "event JSON is malformed: \(why)")
        }
        var first = 0
        while first < bytes.count, EnvelopeScan.isWhitespace(bytes[first]) { first += 1 }
        guard first < bytes.count, bytes[first] == UInt8(ascii: "{") else {
            let kind = first < bytes.count ? EnvelopeScan.kindName(of: bytes[first]) : "nothing"
            throw EnvelopeError(.notObject, detail: "event JSON must be an object, got \(kind)")
        }
        try checkText(bytes)

        let eventID = try uuid(found[0], in: bytes, name: "event_id",
                               missing: .missingEventID, bad: .badEventID)
        let tsNanos = try timestamp(found[1], in: bytes)
        let subjectID = try uuid(found[2], in: bytes, name: "subject_id",
                                 missing: .missingSubjectID, bad: .badSubjectID)
        let payload = found[3]
        switch payload.kind {
        case .object: break
        case .absent: throw EnvelopeError(.missingPayload, detail: "payload is missing")
        default:
            throw EnvelopeError(.payloadNotObject,
                                detail: "payload must be a JSON object, got \(EnvelopeScan.name(payload.kind))")
        }
        let tags = found[4].kind == .array
            ? try EnvelopeScan.tags(in: bytes, array: found[4].range, limits: limits) : []
        return EventEnvelope(eventID: eventID, tsNanos: tsNanos, subjectID: subjectID,
                             payloadRange: payload.range, tags: tags)
    }

    /// `parse` over a byte array; `payloadRange` indexes `bytes`.
    public static func parse(_ bytes: [UInt8], limits: EnvelopeLimits = .standard) throws(EnvelopeError) -> EventEnvelope {
        let result = bytes.withUnsafeBytes { raw -> Result<EventEnvelope, EnvelopeError> in
            do throws(EnvelopeError) { return .success(try parse(raw, limits: limits)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Refuses text the kernel would otherwise store changed: invalid UTF-8 (the JSON layer
    /// repairs it to U+FFFD, as Go does for canonical signing), NUL and lone-surrogate escapes.
    /// Two passes over the whole entry, each a few tens of nanoseconds for a typical event (ASCII
    /// eight bytes at a time; `memchr` from backslash to backslash); the field is only located
    /// once something was found.
    private static func checkText(_ bytes: UnsafeRawBufferPointer) throws(EnvelopeError) {
        if let offset = UTF8Text.firstInvalidOffset(in: bytes) {
            throw EnvelopeError(.invalidUTF8, detail: "invalid UTF-8 at byte offset \(offset) in "
                                + "\(EnvelopeScan.location(of: offset, in: bytes)): an event must be well-formed UTF-8")
        }
        guard let (offset, escape) = JSONScanner.firstSuspectEscape(in: bytes) else { return }
        let location = EnvelopeScan.location(of: offset, in: bytes)
        switch escape {
        case .nul:
            throw EnvelopeError(.nulCharacter, detail: "a NUL character (\\u0000) is not allowed in a string; "
                                + "found in \(location) at byte offset \(offset)")
        case .loneSurrogate(let value):
            let hex = String(value, radix: 16)
            throw EnvelopeError(.loneSurrogate, detail: "\\u\(hex) at byte offset \(offset) in \(location) is a lone "
                                + "surrogate, not a character")
        }
    }

    private static func uuid(_ field: (kind: JSONScanner.Kind, range: Range<Int>), in bytes: UnsafeRawBufferPointer,
                             name: String, missing: EnvelopeError.Reason,
                             bad: EnvelopeError.Reason) throws(EnvelopeError) -> EventUUID {
        let raw = try requiredString(field, in: bytes, name: name, missing: missing, bad: bad)
        let parsed = EnvelopeScan.withDecoded(raw) { EventUUID(utf8: $0) }
        guard let parsed else {
            throw EnvelopeError(bad, detail: "\(name) \(EnvelopeError.echo(raw)) is not a UUID")
        }
        return parsed
    }

    private static func timestamp(_ field: (kind: JSONScanner.Kind, range: Range<Int>),
                                  in bytes: UnsafeRawBufferPointer) throws(EnvelopeError) -> Int64 {
        let raw = try requiredString(field, in: bytes, name: "ts", missing: .missingTs, bad: .badTs)
        guard let nanos = EnvelopeScan.withDecoded(raw, { RFC3339.parseNanos($0) }) else {
            throw EnvelopeError(.badTs, detail: "ts \(EnvelopeError.echo(raw)) is not an RFC 3339 timestamp "
                                + "(want YYYY-MM-DDTHH:MM:SS[.fraction] then Z or +hh:mm/-hh:mm, a real date, years 0001-9999)")
        }
        return nanos
    }

    /// The raw (still escaped) text of a required non-empty string member.
    private static func requiredString(_ field: (kind: JSONScanner.Kind, range: Range<Int>),
                                       in bytes: UnsafeRawBufferPointer, name: String,
                                       missing: EnvelopeError.Reason,
                                       bad: EnvelopeError.Reason) throws(EnvelopeError) -> UnsafeRawBufferPointer {
        switch field.kind {
        case .string:
            guard !field.range.isEmpty else { throw EnvelopeError(missing, detail: "\(name) is empty") }
            return UnsafeRawBufferPointer(rebasing: bytes[field.range])
        case .absent: throw EnvelopeError(missing, detail: "\(name) is missing")
        case .null: throw EnvelopeError(missing, detail: "\(name) is null")
        default:
            throw EnvelopeError(bad, detail: "\(name) must be a string, got \(EnvelopeScan.name(field.kind))")
        }
    }
}

/// The member names looked up, prepared once.
enum EnvelopeKeys {
    static let top = JSONScanner.Keys(["event_id", "ts", "subject_id", "payload", "tags"])
}
