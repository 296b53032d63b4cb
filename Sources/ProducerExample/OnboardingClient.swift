import Foundation
import KernelEvents
import KernelJSON

/// The producer's half of onboarding (docs/onboarding.md): register the key and wait for an admin's
/// approval, exchange the certificate for a token, renew it, and register subjects.
struct OnboardingClient {
    /// A token and its expiry (Unix seconds).
    struct Token {
        let value: String
        let expiresAt: Int64
    }

    let channel: ControlChannel
    let identity: ProducerIdentity
    let stop: StopSignal
    let log: (String) -> Void

    /// A registration stream expires 300 s after its last write; asking again before that keeps a
    /// long wait for the admin alive (and an already approved key is answered at once).
    var reregisterSeconds = 240.0

    // MARK: registration

    /// Registers the key (`P+register`) and blocks until the kernel says `approved`; returns the
    /// producer id. A new key gets no answer until an admin approves it, which may take hours.
    func register(hint: String, contact: String?, meta: [String: String]) throws(ProducerError) -> String {
        var members: [(key: String, value: JSONValue)] = [("producer_hint", .string(hint))]
        if let contact { members.append(("contact", .string(contact))) }
        if !meta.isEmpty {
            members.append(("meta", .object(JSONObject(meta.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))))
        }
        let payload = JSONValue.object(JSONObject(members))

        while true {
            let (fields, nonce) = identity.signedRequest(payload: payload)
            // The answer stream is new for every nonce, so reading it from the start misses nothing.
            let responses = channel.key("register:resp:" + nonce)
            try channel.add(channel.key("register"), fields)
            log("registration sent (fingerprint \(identity.fingerprint.prefix(16))…, nonce \(nonce)); waiting for approval")

            let askAgainAt = Date().addingTimeInterval(reregisterSeconds)
            var lastID = "0-0"
            waiting: while Date() < askAgainAt {
                if stop.isRaised { throw ProducerError(.interrupted, "stopped while waiting for approval") }
                for entry in try channel.read(responses, after: lastID, blockMs: 1000) {
                    lastID = entry.id
                    switch entry["status"] ?? "" {
                    case "approved":
                        guard let producerID = entry["producer_id"], !producerID.isEmpty else { continue }
                        return producerID
                    case "rate_limited":
                        // Nothing was recorded and the nonce is unused: wait for the bucket to refill.
                        log("registration rate limited; retrying in 10 s")
                        try pause(seconds: 10)
                        break waiting
                    case "replay":
                        // Only happens if a nonce is reused; a fresh one fixes it.
                        break waiting
                    case "denied", "invalid_cert", "invalid_sig":
                        throw ProducerError(.registrationRefused,
                                            "status \(entry["status"]!), reason \(entry["reason"] ?? "none")")
                    default:
                        throw ProducerError(.registrationRefused, "unexpected answer \(entry.fields)")
                    }
                }
            }
        }
    }

    // MARK: tokens

    /// Exchanges the certificate for a token (`P+token:exchange` → `P+token:resp:<producer_id>`).
    /// Refusals are silent, so no answer within 5 s means "try again later".
    func exchangeToken(producerID: String, attempts: Int = 6) throws(ProducerError) -> Token {
        let responses = channel.key("token:resp:" + producerID)
        for attempt in 1...attempts {
            let after = try channel.lastID(responses)
            try channel.add(channel.key("token:exchange"), identity.signedRequest(payload: .object(JSONObject())).fields)
            // Other instances of the same producer share the stream: take the answer for this key.
            if let token = try awaitToken(responses, after: after, where: { $0["fingerprint"] == identity.fingerprint }) {
                return token
            }
            log("no token answer (attempt \(attempt) of \(attempts)); retrying")
            try pause(seconds: 5)
        }
        throw ProducerError(.noToken, "the kernel issued no token (key not approved, producer disabled, or rate limited)")
    }

    /// Renews `token` (`{token}` on the exchange stream). Nil when no answer came within 5 s;
    /// the old token stays valid until it expires.
    func renew(_ token: Token, producerID: String) throws(ProducerError) -> Token? {
        let responses = channel.key("token:resp:" + producerID)
        let after = try channel.lastID(responses)
        try channel.add(channel.key("token:exchange"), ["token", token.value])
        return try awaitToken(responses, after: after, where: { $0["fingerprint"] == nil })
    }

    private func awaitToken(_ stream: String, after: String,
                            where matches: (ControlChannel.Entry) -> Bool) throws(ProducerError) -> Token? {
        var lastID = after
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if stop.isRaised { throw ProducerError(.interrupted, "stopped while waiting for a token") }
            for entry in try channel.read(stream, after: lastID, blockMs: 1000) {
                lastID = entry.id
                guard matches(entry), let value = entry["token"], let exp = entry["exp"],
                      let nanos = RFC3339.parseNanos(exp) else { continue }
                return Token(value: value, expiresAt: nanos / 1_000_000_000)
            }
        }
        return nil
    }

    // MARK: subjects

    /// Registers (or re-binds) `subjectKey` with `schemaName` and `schemaBody` on
    /// `P+subject:register`; returns the subject id. Re-registering an existing subject is harmless.
    func registerSubject(producerID: String, subjectKey: String, schemaName: String, schemaBody: JSONValue,
                         attrs: [String: String]) throws(ProducerError) -> String {
        let payload = JSONValue.object(JSONObject([
            ("op", .string("register")),
            ("subject_key", .string(subjectKey)),
            ("schema_name", .string(schemaName)),
            ("schema_body", schemaBody),
            ("attrs", .object(JSONObject(attrs.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
        ]))
        let responses = channel.key("subject:resp:" + producerID)
        for _ in 1...10 {
            let after = try channel.lastID(responses)
            try channel.add(channel.key("subject:register"), identity.signedRequest(payload: payload).fields)
            guard let answer = try awaitAnswer(responses, after: after) else {
                log("no answer for subject \(subjectKey); retrying")
                continue
            }
            if answer["status"] == "ok", let subjectID = answer["subject_id"] {
                return subjectID
            }
            switch answer["error"] ?? "" {
            case "rate_limited":
                // The bucket holds 3 requests and refills 10 per minute by default.
                log("subject registration rate limited; retrying in 7 s")
                try pause(seconds: 7)
            case "replay":
                continue
            default:
                throw ProducerError(.subjectRefused, "\(subjectKey): \(answer.fields)")
            }
        }
        throw ProducerError(.subjectRefused, "\(subjectKey): gave up after 10 attempts")
    }

    private func awaitAnswer(_ stream: String, after: String) throws(ProducerError) -> ControlChannel.Entry? {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if stop.isRaised { throw ProducerError(.interrupted, "stopped while registering subjects") }
            if let entry = try channel.read(stream, after: after, blockMs: 1000).first { return entry }
        }
        return nil
    }

    /// Sleeps in short steps so a stop request is honoured quickly.
    func pause(seconds: Double) throws(ProducerError) {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            if stop.isRaised { throw ProducerError(.interrupted, "stopped") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}
