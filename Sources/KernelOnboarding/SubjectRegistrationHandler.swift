import KernelJSON
import KernelPlugins
import KernelPostgres
import Logging

/// `P+"subject:register"`: producers register subjects and upgrade their schemas (docs/onboarding.md, "Subjects").
///
/// Order: fields → certificate and signature → key approved → nonce (`nonce:subject:<pid>:<nonce>`,
/// 10 min) → rate limit (op `subject`) → payload → op rules → one database transaction
/// (`SubjectStore`) → plugin check of the resulting schema (docs/plugins.md, "Subject registration and the payload schema"; inside the transaction) →
/// `P+"schemas:"+subject_id` cached for ingest → response on `P+"subject:resp:"+producer_id`.
/// Responses follow docs/onboarding.md, "Subjects"; silent cases (unknown keys, missing fields) are only logged.
public final class SubjectRegistrationHandler: ControlMessageHandler {
    public let streamSuffix = "subject:register"

    /// TTL of the `schemas:<subject_id>` cache entry written after a successful op (1 h).
    static let schemaCacheTTLSeconds = 3600
    /// Largest payload parsed: the data plane's default `server.max_message_bytes`.
    static let maxPayloadBytes = 1_048_576

    let gate: SubjectProducerGate
    let pluginCheck: PluginSchemaCheck

    /// - Parameters:
    ///   - check: the certificate and signature check (built from the settings).
    ///   - families: the families served by the loaded plugins, asked on every operation.
    public init(check: ProducerRequestCheck,
                families: @escaping @Sendable () -> [FamilyDescriptor] = { [] }) {
        gate = SubjectProducerGate(flow: .subject, check: check)
        pluginCheck = PluginSchemaCheck(families: families)
    }

    public convenience init(settings: OnboardingSettings,
                            families: @escaping @Sendable () -> [FamilyDescriptor] = { [] }) {
        self.init(check: ProducerRequestCheck(settings: settings), families: families)
    }

    public func handle(_ message: ControlMessage, context: ControlContext) {
        let passed: SubjectProducerGate.Passed
        switch gate.admit(message, context: context) {
        case .success(let p):
            passed = p
        case .failure(let refusal):
            log(context, .warning, "subject request refused", outcome: "denied", reason: refusal.reason,
                producerID: refusal.producerID, messageID: message.id)
            if let producerID = refusal.producerID, let fields = refusal.response {
                respond(fields, to: producerID, context: context)
            }
            return
        }

        let request: SubjectRequest
        do throws(SubjectRequest.Refusal) {
            guard passed.payload.utf8.count <= Self.maxPayloadBytes else {
                throw SubjectRequest.Refusal.invalidPayload(details: "payload larger than \(Self.maxPayloadBytes) bytes")
            }
            request = try SubjectRequest.parse(passed.payload)
        } catch {
            let fields: [(String, String)]
            switch error {
            case .invalidPayload(let details?): fields = [("error", "invalid_payload"), ("details", details)]
            case .invalidPayload(nil): fields = [("error", "invalid_payload")]
            case .unknownOp(let raw): fields = [("error", "unknown_op"), ("op", raw)]
            }
            log(context, .warning, "subject payload refused", outcome: "denied", reason: fields[0].1,
                producerID: passed.producerID, messageID: message.id)
            respond(fields, to: passed.producerID, context: context)
            return
        }

        let failureCode: String
        let result: Result<SubjectBinding, SubjectStoreFailure>
        do {
            let store = SubjectStore(pg: try context.postgres(), pluginCheck: pluginCheck)
            switch request.operation {
            case .register(let name, let body, let attrs):
                failureCode = "register_failed"
                result = Result { () throws(SubjectStoreFailure) -> SubjectBinding in
                    try store.register(producerID: passed.producerID, subjectKey: request.subjectKey,
                                       schemaName: name, body: body, attrs: attrs)
                }
            case .upgrade(let name, let delta, let attrsDelta):
                failureCode = "upgrade_failed"
                result = Result { () throws(SubjectStoreFailure) -> SubjectBinding in
                    try store.upgrade(producerID: passed.producerID, subjectKey: request.subjectKey,
                                      schemaName: name, delta: delta, attrsDelta: attrsDelta)
                }
            }
        } catch {
            context.discardPostgres(after: error)
            let code = if case .upgrade = request.operation { "upgrade_failed" } else { "register_failed" }
            log(context, .error, "subject operation failed: database unavailable", outcome: "failure", reason: code,
                producerID: passed.producerID, messageID: message.id, details: error.message)
            respond([("error", code), ("reason", error.message)], to: passed.producerID, context: context)
            return
        }

        switch result {
        case .success(let binding):
            cacheSchema(binding, context: context)
            log(context, .info, "subject operation done", outcome: "success", reason: binding.unchanged ? "unchanged" : "ok",
                producerID: passed.producerID, messageID: message.id, subjectID: binding.subjectID)
            respond([
                ("status", "ok"), ("producer_id", passed.producerID), ("subject_id", binding.subjectID),
                ("schema_id", binding.schemaID), ("schema_name", binding.schemaName),
                ("schema_version", String(binding.schemaVersion)), ("unchanged", binding.unchanged ? "true" : "false"),
            ], to: passed.producerID, context: context)
        case .failure(.schemaMismatch(let details)):
            log(context, .warning, "subject schema refused by plugin", outcome: "denied", reason: "invalid_payload",
                producerID: passed.producerID, messageID: message.id, details: details)
            respond([("error", "invalid_payload"), ("details", details)], to: passed.producerID, context: context)
        case .failure(let failure):
            if case .database(let error) = failure { context.discardPostgres(after: error) }
            log(context, failure.isDatabase ? .error : .warning, "subject operation failed", outcome: "failure",
                reason: failureCode, producerID: passed.producerID, messageID: message.id, details: failure.reason)
            respond([("error", failureCode), ("reason", failure.reason)], to: passed.producerID, context: context)
        }
    }

    /// Publishes the subject's current schema for ingest (check 7 of docs/protocol.md, "Ingest checks, in order" reads `P+"schemas:"+subject_id`).
    /// After the commit, so ingest never sees an id that could still roll back. A failure only
    /// costs ingest one database lookup, so it is logged, not answered.
    private func cacheSchema(_ binding: SubjectBinding, context: ControlContext) {
        Self.cacheSchema(subjectID: binding.subjectID, schemaID: binding.schemaID, context: context)
    }

    static func cacheSchema(subjectID: String, schemaID: String, context: ControlContext) {
        let key = context.key("schemas:" + subjectID)
        do {
            let reply = try context.redis.command(["SET", key, schemaID, "EX", String(schemaCacheTTLSeconds)])
            if case .error(let message) = reply { throw SchemaCacheError(message: message) }
        } catch {
            context.logger.warning("schema cache write failed", metadata: [
                "event": "infra", "component": "onboarding", "stage": "subject", "outcome": "failure",
                "reason_code": "redis_error", "subject_id": .string(subjectID), "details": .string("\(error)"),
            ])
        }
    }

    private struct SchemaCacheError: Error { let message: String }

    private func respond(_ fields: [(String, String)], to producerID: String, context: ControlContext) {
        let stream = context.key("subject:resp:" + producerID)
        if !ResponseWriter().respond(stream: stream, fields: fields, ttlSeconds: context.settings.responseTTLSeconds,
                                     redis: context.redis) {
            context.logger.error("subject response not written", metadata: [
                "event": "infra", "component": "onboarding", "stage": "subject", "outcome": "failure",
                "reason_code": "redis_error", "producer_id": .string(producerID),
            ])
        }
    }

    private func log(_ context: ControlContext, _ level: Logger.Level, _ text: Logger.Message, outcome: String,
                     reason: String, producerID: String?, messageID: String, subjectID: String? = nil,
                     details: String? = nil) {
        var metadata: Logger.Metadata = [
            "event": "registration", "component": "onboarding", "stage": "subject", "action": "subject_op",
            "outcome": .string(outcome), "reason_code": .string(reason), "message_id": .string(messageID),
        ]
        if let producerID { metadata["producer_id"] = .string(producerID) }
        if let subjectID { metadata["subject_id"] = .string(subjectID) }
        if let details { metadata["details"] = .string(String(details.prefix(512))) }
        context.logger.log(level: level, text, metadata: metadata)
    }
}

extension SubjectStoreFailure {
    var isDatabase: Bool {
        if case .database = self { return true }
        return false
    }
}
