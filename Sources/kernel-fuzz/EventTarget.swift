import KernelEvents
import KernelJSON

/// `event`: `EventEnvelope.parse` (the single-pass envelope scanner), differentially against a
/// reference built from `JSONParser`'s tree and `TextReferences`.
///
/// Properties: never crashes; accepts exactly what the rules of docs/protocol.md, "Event envelope" accept, refusing with the
/// reason the rules give first; an accepted envelope carries the UUIDs and instant the reference
/// reads (and they round-trip through their text forms), `payloadRange` holds exactly the
/// `payload` object, and the tags are the reference's usable tags in order.
final class EventTarget: FuzzTarget {
    let name = "event"
    let seeds: [[UInt8]]
    private let mutator = JSONMutator(maxLength: 64 * 1024, extraDictionary: tokens([
        "\"event_id\"", "\"ts\"", "\"subject_id\"", "\"payload\"", "\"tags\"", "\"key\"", "\"value\"",
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "2026-11-25T22:47:04.123456789Z", "+01:00", "-00:00", "Z",
    ]))
    static let fieldKeys = tokens(["\"event_id\"", "\"ts\"", "\"subject_id\"", "\"payload\"", "\"tags\""])

    static let uuids = [
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff", "{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}", "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b",
        "urn:uuid:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5", "0190a1b2-c3d4-7e5f-8a9b_0c1d2e3f4a5b",
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b ", "０190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5",
    ]
    static let timestamps = [
        "2026-11-25T22:47:04Z", "2026-11-25T22:47:04.123456789Z", "2026-11-25T22:47:04.1234567890Z", "2024-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2000-02-29T12:00:00Z", "2026-11-25t22:47:04z", "2026-11-25T22:47:04+23:59",
        "2026-11-25T22:47:04-00:00", "2026-11-25T22:47:04+24:00", "2026-11-25T24:00:00Z", "2026-11-25T23:59:60Z",
        "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "1677-09-21T00:12:43.145224192Z",
        "1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:16.854775808Z",
        "2262-04-11T23:47:16.854775807-00:01", "1677-09-21T00:12:43.145224192+00:01", "2026-11-25 22:47:04Z",
        "2026-11-25T22:47:04", "2026-11-25T22:47:04.Z", "2026-11-25T22:47:04+0100", "2026-1-25T22:47:04Z",
        "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "2026-11-25T22:47:04.5+05:30", "2026-13-01T00:00:00Z",
        "2026-11-31T00:00:00Z", "2026-11-25T22:47:04ZZ", "2026-11-25T22:47:04.+01:00", "2026-11-25T22:47:04+01:0",
    ]

    init(corpusDir: String) throws(FuzzSetupError) {
        var seeds = Files.corpus(corpusDir, suffixes: [".json"])
        if seeds.isEmpty {
            seeds = [Array(#"{"event_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","ts":"2026-11-25T22:47:04.123456789Z","subject_id":"1f0e2d3c-4b5a-4697-8877-665544332211","payload":{"px":"187.25"},"tags":[{"key":"core.symbol","value":"AAPL"}]}"#.utf8)]
        }
        self.seeds = seeds
    }

    func mutate(_ base: [UInt8], other: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        // A third of the time: one envelope field set to a near-valid or hostile string.
        if rng.oneIn(3), case .object(var members)? = JSONMutator.tree(base) {
            let field = rng.below(3)
            let key = ["\"event_id\"", "\"ts\"", "\"subject_id\""][field]
            var text = field == 1 ? rng.pick(Self.timestamps) : rng.pick(Self.uuids)
            if rng.oneIn(3) {
                var bytes = Array(text.utf8)
                mutator.bytes.mutateOnce(&bytes, other: [], rng: &rng)
                text = String(decoding: bytes, as: UTF8.self)
            }
            var value = JSONMutator.quoted(text)
            if rng.oneIn(4) { value = JSONMutator.escaped(value, rng: &rng) }
            if let i = members.lastIndex(where: { $0.key == Array(key.utf8) }), rng.below(4) != 0 {
                members[i].value = .raw(value)
            } else {
                members.insert((Array(key.utf8), .raw(value)), at: rng.below(members.count + 1))
            }
            return JSONMutator.serialize(.object(members))
        }
        return mutator.mutate(base, other: other, rng: &rng, keys: Self.fieldKeys)
    }

    /// What docs/producers.md ("Publish", "What the kernel refuses") says about `input`: the
    /// refusal reason, or nil when it must be accepted.
    static func expectedReason(_ tree: JSONValue?, input: [UInt8]) -> EnvelopeError.Reason? {
        guard let tree else { return .malformedJSON }
        guard case .object(let object) = tree else { return .notObject }
        // The standard library's validation, not the kernel's.
        if String(validating: input, as: UTF8.self) == nil { return .invalidUTF8 }
        if let r = suspectEscape(input) { return r }
        func text(_ key: String, missing: EnvelopeError.Reason, bad: EnvelopeError.Reason,
                  valid: (String) -> Bool) -> EnvelopeError.Reason? {
            switch object[key] {
            case .none, .some(.null): return missing
            case .some(.string(let s)):
                if s.isEmpty { return missing }
                return valid(s) ? nil : bad
            default: return bad
            }
        }
        if let r = text("event_id", missing: .missingEventID, bad: .badEventID, valid: TextReferences.isUUID) { return r }
        if let r = text("ts", missing: .missingTs, bad: .badTs, valid: { TextReferences.rfc3339Nanos($0) != nil }) {
            return r
        }
        if let r = text("subject_id", missing: .missingSubjectID, bad: .badSubjectID, valid: TextReferences.isUUID) {
            return r
        }
        switch object["payload"] {
        case .none: return .missingPayload
        case .some(.object): break
        default: return .payloadNotObject
        }
        // Usable tags in order, each checked against the default limits (EnvelopeLimits.standard).
        var usable = 0
        for (key, value) in usableTags(tree) {
            if key.utf8.count > 256 { return .tagKeyTooLong }
            if value.utf8.count > 256 { return .tagValueTooLong }
            if usable == 32 { return .tooManyTags }
            usable += 1
        }
        return nil
    }

    /// The tags the rules keep, from the tree: objects with a non-empty string key and value.
    static func usableTags(_ tree: JSONValue) -> [(String, String)] {
        guard case .array(let items)? = tree["tags"] else { return [] }
        return items.compactMap { item in
            guard case .string(let key)? = item["key"], case .string(let value)? = item["value"],
                  !key.isEmpty, !value.isEmpty else { return nil }
            return (key, value)
        }
    }

    /// The first `\u0000` (`nul_character`) or lone-surrogate escape (`lone_surrogate`) in well-formed
    /// JSON, found byte by byte with the string state tracked (the kernel jumps with `memchr`).
    static func suspectEscape(_ input: [UInt8]) -> EnvelopeError.Reason? {
        func hex(_ at: Int) -> Int? {
            guard at + 4 <= input.count else { return nil }
            let digits = input[at..<(at + 4)]
            guard digits.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }) else { return nil }
            return Int(String(decoding: digits, as: UTF8.self), radix: 16)
        }
        var inString = false
        var i = 0
        while i < input.count {
            let c = input[i]
            if !inString || c != UInt8(ascii: "\\") {
                if c == UInt8(ascii: "\"") { inString.toggle() }
                i += 1
                continue
            }
            guard i + 1 < input.count else { return nil }
            guard input[i + 1] == UInt8(ascii: "u"), let v = hex(i + 2) else {
                i += 2
                continue
            }
            if v == 0 { return .nulCharacter }
            if (0xD800..<0xDC00).contains(v) {
                if i + 12 <= input.count, input[i + 6] == UInt8(ascii: "\\"), input[i + 7] == UInt8(ascii: "u"),
                   let low = hex(i + 8), (0xDC00..<0xE000).contains(low) {
                    i += 12
                    continue
                }
                return .loneSurrogate
            }
            if (0xDC00..<0xE000).contains(v) { return .loneSurrogate }
            i += 6
        }
        return nil
    }

    func run(_ input: [UInt8]) -> Verdict {
        let tree = try? JSONParser.parse(input, maxDepth: 64)
        let expected = Self.expectedReason(tree, input: input)
        let result: Result<EventEnvelope, EnvelopeError>
        do {
            result = .success(try EventEnvelope.parse(input))
        } catch {
            result = .failure(error)
        }
        switch (result, expected) {
        case (.failure(let error), let want?):
            guard error.reason == want else {
                return .fail("reason: refused as \(error.reason.rawValue) (\(error.detail)), the rules say \(want.rawValue)")
            }
            guard error.detail.utf8.count <= 512, !error.detail.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                return .fail("detail: refusal detail is too long or holds control characters: \(quote(error.detail))")
            }
            return .pass(outcome: want.rawValue)
        case (.failure(let error), nil):
            return .fail("accept: refused as \(error.reason.rawValue) (\(error.detail)) but the rules accept it")
        case (.success, let want?):
            return .fail("refuse: accepted, but the rules refuse it with \(want.rawValue)")
        case (.success(let envelope), nil):
            if let problem = Self.checkAccepted(envelope, tree: tree!, input: input) { return .fail("accepted: \(problem)") }
            return .pass(outcome: "accepted:\(envelope.tags.count > 0 ? "tags" : "notags")")
        }
    }

    static func checkAccepted(_ envelope: EventEnvelope, tree: JSONValue, input: [UInt8]) -> String? {
        let eventText = tree["event_id"]!.stringValue!, subjectText = tree["subject_id"]!.stringValue!
        let tsText = tree["ts"]!.stringValue!
        guard envelope.eventID.description == eventText.lowercased() else {
            return "event_id \(eventText) read as \(envelope.eventID)"
        }
        guard envelope.subjectID.description == subjectText.lowercased() else {
            return "subject_id \(subjectText) read as \(envelope.subjectID)"
        }
        guard EventUUID(envelope.eventID.description) == envelope.eventID else { return "event_id does not round-trip" }
        guard let nanos = TextReferences.rfc3339Nanos(tsText), envelope.tsNanos == nanos else {
            return "ts \(tsText) read as \(envelope.tsNanos), reference \(String(describing: TextReferences.rfc3339Nanos(tsText)))"
        }
        let formatted = RFC3339.format(nanos: envelope.tsNanos)
        guard RFC3339.parseNanos(formatted) == envelope.tsNanos, TextReferences.rfc3339Nanos(formatted) == envelope.tsNanos else {
            return "ts \(envelope.tsNanos) formats as \(formatted), which does not parse back"
        }
        let range = envelope.payloadRange
        guard range.lowerBound >= 0, range.upperBound <= input.count,
              let payload = try? JSONParser.parse(Array(input[range]), maxDepth: 64),
              payload == tree["payload"]! else {
            return "payloadRange \(range) does not hold the payload object"
        }
        let want = usableTags(tree).map { EnvelopeTag(key: $0.0, value: $0.1) }
        let same = want.count == envelope.tags.count && zip(want, envelope.tags).allSatisfy {
            Array($0.key.utf8) == Array($1.key.utf8) && Array($0.value.utf8) == Array($1.value.utf8)
        }
        guard same else {
            return "tags \(envelope.tags.map { "\(quote($0.key))=\(quote($0.value))" }) where the tree has "
                + "\(want.map { "\(quote($0.key))=\(quote($0.value))" })"
        }
        return nil
    }
}
