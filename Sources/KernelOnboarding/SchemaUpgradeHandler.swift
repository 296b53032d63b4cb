import KernelJSON
import KernelPlugins
import Logging

/// `P+"schema:upgrade"` (docs/onboarding.md, "Schema upgrade stream"): a producer publishes a new full schema body for
/// a subject. Always creates version max+1 of the family (creating the subject if needed), sets it
/// current, caches it for ingest, binds the producer, and answers
/// `{subject_id, schema_id, schema_name, schema_version}` (no `status`) on
/// `P+"subject:resp:"+producer_id`.
///
/// Checks: fields, certificate and signature, approved key, nonce `nonce:schema:<pid>:<nonce>`
/// (10 min), rate limit op `schema`, payload `{subject_key, schema_name, schema_body, attrs?}`,
/// and the plugin check (docs/plugins.md, "Subject registration and the payload schema"). Every failure is silent (logged, acknowledged, no response).
public final class SchemaUpgradeHandler: ControlMessageHandler {
    public let streamSuffix = "schema:upgrade"

    let gate: SubjectProducerGate
    let pluginCheck: PluginSchemaCheck

    public init(check: ProducerRequestCheck,
                families: @escaping @Sendable () -> [FamilyDescriptor] = { [] }) {
        gate = SubjectProducerGate(flow: .schemaUpgrade, check: check)
        pluginCheck = PluginSchemaCheck(families: families)
    }

    public convenience init(settings: OnboardingSettings,
                            families: @escaping @Sendable () -> [FamilyDescriptor] = { [] }) {
        self.init(check: ProducerRequestCheck(settings: settings), families: families)
    }

    /// The payload of one schema upgrade.
    struct Request: Equatable {
        let subjectKey: String
        let schemaName: String
        let schemaBody: JSONValue
        let attrs: JSONObject?

        /// Parses the payload; nil when it is not an object with a non-empty `subject_key` and
        /// `schema_name`, a non-null `schema_body` and an optional object `attrs`.
        static func parse(_ payload: String) -> Request? {
            guard payload.utf8.count <= SubjectRegistrationHandler.maxPayloadBytes,
                  case .object(let o)? = try? JSONParser.parse(payload, maxDepth: SubjectRequest.maxDepth),
                  case .string(let key)? = o["subject_key"], !key.isEmpty,
                  case .string(let name)? = o["schema_name"], !name.isEmpty,
                  let body = SubjectRequest.present(o["schema_body"]),
                  (try? SubjectRequest.checkName(key, field: "subject_key", max: SubjectRequest.maxSubjectKeyBytes)) != nil,
                  (try? SubjectRequest.checkName(name, field: "schema_name", max: SubjectRequest.maxSchemaNameBytes)) != nil
            else { return nil }
            let attrs: JSONObject?
            switch o["attrs"] {
            case nil, .null?: attrs = nil
            case .object(let a)?: attrs = a
            case _?: return nil
            }
            return Request(subjectKey: key, schemaName: name, schemaBody: body, attrs: attrs)
        }
    }

    public func handle(_ message: ControlMessage, context: ControlContext) {
        let passed: SubjectProducerGate.Passed
        switch gate.admit(message, context: context) {
        case .success(let p): passed = p
        case .failure(let refusal):
            log(context, .warning, "schema upgrade refused", outcome: "denied", reason: refusal.reason,
                producerID: refusal.producerID, messageID: message.id)
            return
        }
        guard let request = Request.parse(passed.payload) else {
            log(context, .warning, "schema upgrade refused", outcome: "denied", reason: "invalid_payload",
                producerID: passed.producerID, messageID: message.id)
            return
        }

        let binding: SubjectBinding
        do {
            let pg = try context.postgres()
            do {
                binding = try SubjectStore(pg: pg, pluginCheck: pluginCheck).appendVersion(
                    producerID: passed.producerID, subjectKey: request.subjectKey, schemaName: request.schemaName,
                    body: request.schemaBody, attrs: request.attrs)
            } catch {
                if case .database(let pgError) = error { context.discardPostgres(after: pgError) }
                let reason = if case .schemaMismatch = error { "invalid_payload" } else { "upgrade_failed" }
                log(context, error.isDatabase ? .error : .warning, "schema upgrade failed", outcome: "failure",
                    reason: reason, producerID: passed.producerID, messageID: message.id, details: error.reason)
                return
            }
        } catch {
            context.discardPostgres(after: error)
            log(context, .error, "schema upgrade failed: database unavailable", outcome: "failure",
                reason: "upgrade_failed", producerID: passed.producerID, messageID: message.id, details: error.message)
            return
        }

        SubjectRegistrationHandler.cacheSchema(subjectID: binding.subjectID, schemaID: binding.schemaID, context: context)
        log(context, .info, "schema upgraded", outcome: "success", reason: "ok", producerID: passed.producerID,
            messageID: message.id, details: "\(binding.schemaName) v\(binding.schemaVersion)")
        let stream = context.key("subject:resp:" + passed.producerID)
        let written = ResponseWriter().respond(stream: stream, fields: [
            ("subject_id", binding.subjectID), ("schema_id", binding.schemaID),
            ("schema_name", binding.schemaName), ("schema_version", String(binding.schemaVersion)),
        ], ttlSeconds: context.settings.responseTTLSeconds, redis: context.redis)
        if !written {
            log(context, .error, "schema upgrade response not written", outcome: "failure", reason: "redis_error",
                producerID: passed.producerID, messageID: message.id)
        }
    }

    private func log(_ context: ControlContext, _ level: Logger.Level, _ text: Logger.Message, outcome: String,
                     reason: String, producerID: String?, messageID: String, details: String? = nil) {
        var metadata: Logger.Metadata = [
            "event": "registration", "component": "onboarding", "stage": "schema_upgrade", "action": "schema_upgrade",
            "outcome": .string(outcome), "reason_code": .string(reason), "message_id": .string(messageID),
        ]
        if let producerID { metadata["producer_id"] = .string(producerID) }
        if let details { metadata["details"] = .string(String(details.prefix(512))) }
        context.logger.log(level: level, text, metadata: metadata)
    }
}
