import KernelJSON

/// The `payload` of a registration or deregistration request (step 2 of docs/onboarding.md, "Registration"):
/// `{producer_hint?: string, contact?: string, meta?: {string: string}, producer_id?: string}`.
/// Other members are ignored; `null` counts as absent; any other type refuses the payload.
struct RegistrationPayload: Equatable {
    var producerHint: String?
    var contact: String?
    /// Members in document order (last duplicate wins).
    var meta: [(key: String, value: String)]?
    var producerID: String?

    /// Containers allowed: the object and `meta`. Deeper input is refused before building a tree.
    static let maxDepth = 2

    static func == (a: RegistrationPayload, b: RegistrationPayload) -> Bool {
        a.producerHint == b.producerHint && a.contact == b.contact && a.producerID == b.producerID
            && a.meta?.map(\.key) == b.meta?.map(\.key) && a.meta?.map(\.value) == b.meta?.map(\.value)
    }

    /// Parses `bytes`; nil when they are not such an object.
    static func parse(_ bytes: [UInt8]) -> RegistrationPayload? {
        guard let value = try? JSONParser.parse(bytes, maxDepth: maxDepth), case .object(let object) = value else { return nil }
        var payload = RegistrationPayload()
        guard let hint = optionalString(object["producer_hint"]),
              let contact = optionalString(object["contact"]),
              let producerID = optionalString(object["producer_id"]) else { return nil }
        payload.producerHint = hint.value
        payload.contact = contact.value
        payload.producerID = producerID.value
        switch object["meta"] {
        case nil, .null?: break
        case .object(let meta)?:
            var members: [(key: String, value: String)] = []
            var index: [String: Int] = [:]
            for (key, value) in meta.members {
                guard case .string(let text) = value else { return nil }
                if let at = index[key] { members[at].value = text } else { index[key] = members.count; members.append((key, text)) }
            }
            payload.meta = members
        default: return nil
        }
        return payload
    }

    /// `.some(nil)` for absent/null, `.some(text)` for a string, nil for any other type.
    private static func optionalString(_ value: JSONValue?) -> (value: String?, Void)? {
        switch value {
        case nil, .null?: return (nil, ())
        case .string(let text)?: return (text, ())
        default: return nil
        }
    }

    /// The producer description (docs/onboarding.md, "Registration"): `Contact: <contact> | Meta: <meta json>`,
    /// each part only when present (non-empty); nil when neither is.
    var description: String? {
        var parts: [String] = []
        if let contact, !contact.isEmpty { parts.append("Contact: \(contact)") }
        if let meta, !meta.isEmpty {
            // Keys sorted, as Go marshals a map.
            let object = JSONValue.object(JSONObject(meta.map { (key: $0.key, value: JSONValue.string($0.value)) }))
            parts.append("Meta: " + JSONCanonical.canonicalize(JSONWriter.serialize(object)))
        }
        return parts.isEmpty ? nil : parts.joined(separator: " | ")
    }

    /// `producer_id` when non-empty.
    var requestedProducerID: String? {
        guard let producerID, !producerID.isEmpty else { return nil }
        return producerID
    }
}
