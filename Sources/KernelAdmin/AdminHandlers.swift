import Hummingbird
import HummingbirdCore
import HTTPTypes
import KernelAuth
import KernelJSON
import KernelPostgres
import KernelRedis
import Logging

/// The `/auth*` operations once the admin is authenticated (docs/admin.md, "Endpoints": bodies and status codes).
struct AdminHandlers: Sendable {
    let worker: BlockingWorker
    let keyPrefix: String
    let responseTTLSeconds: Int
    /// The daemon's record of revocations (nil when the server runs without ingest).
    var revocations: IngestRevocations? = nil
    let logger: Logger

    // MARK: GET /auth

    func list(query: FlatDictionary<Substring, Substring>) async -> AdminReply {
        let longText = query["long"].map { String($0).lowercased() }
        let long = longText == "true" || longText == "1"
        let filterText = query["filter"].map(String.init)
        let filter: ListFilter
        if let filterText, !filterText.isEmpty {
            guard let parsed = ListFilter(rawValue: filterText.lowercased()) else {
                return Self.badRequest("unknown_filter", "filter must be pending, all, active or registered")
            }
            filter = parsed
        } else {
            filter = long ? .registered : .pending
        }
        let result = await worker.run { connections -> Result<JSONValue, PGError> in
            do throws(PGError) {
                return .success(try connections.withPostgres { pg throws(PGError) in
                    filter == .pending ? try AdminStore.pending(pg) : try AdminStore.producers(pg, filter: filter, long: long)
                })
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let rows):
            return AdminReply(status: .ok, body: rows, outcome: "success", reasonCode: nil,
                              logMetadata: ["target": .string("filter=\(filter.rawValue)")])
        case .failure(let error):
            return Self.failure(AdminStoreError.storage(error))
        }
    }

    // MARK: POST /auth/review

    func review(body: [UInt8], admin: AdminIdentity) async -> AdminReply {
        guard let json = try? JSONParser.parse(body), case .object = json else {
            return Self.badRequest("bad_json", "the body must be a JSON object")
        }
        let action = Self.string(json, "action")?.lowercased()
        let producerID = Self.string(json, "producer_id")?.lowercased()
        let fingerprint = Self.string(json, "fingerprint")
        let reason = Self.string(json, "reason")
        let notes = Self.string(json, "notes")
        guard let action else { return Self.badRequest("missing_action", "action is required") }
        guard let producerID else { return Self.badRequest("missing_producer_id", "producer_id is required") }
        guard Self.isUUID(producerID) else { return Self.badRequest("invalid_producer_id", "producer_id must be a UUID") }
        switch action {
        case "approve":
            guard let fingerprint else { return Self.badRequest("missing_fingerprint", "fingerprint is required") }
            return await approve(producerID: producerID, fingerprint: fingerprint, notes: notes, admin: admin)
        case "deny":
            guard let reason else { return Self.badRequest("missing_reason", "deny requires a reason") }
            guard let fingerprint else { return Self.badRequest("missing_fingerprint", "fingerprint is required") }
            return await deny(producerID: producerID, fingerprint: fingerprint, reason: reason, admin: admin)
        default:
            return Self.badRequest("unknown_action", "action must be approve or deny")
        }
    }

    private func approve(producerID: String, fingerprint: String, notes: String?, admin: AdminIdentity) async -> AdminReply {
        let prefix = keyPrefix
        let ttl = responseTTLSeconds
        let logger = logger
        let result = await worker.run { connections -> Result<(AdminStore.ApprovalType, Bool), AdminStoreError> in
            let type: AdminStore.ApprovalType
            do throws(PGError) {
                let rotation = try connections.withPostgres { pg throws(PGError) in
                    try AdminStore.hasApprovedKey(pg, producerID: producerID)
                }
                type = rotation ? .keyRotation : .newProducer
            } catch {
                return .failure(AdminStoreError(status: 500, code: "producer_lookup_failed", error.description))
            }
            let nonce: String?
            do throws(PGError) {
                nonce = try connections.withPostgres { pg throws(PGError) in
                    try AdminStore.approve(pg, type: type, producerID: producerID, fingerprint: fingerprint, notes: notes,
                                           reviewer: admin.principal)
                    return try AdminStore.newestNonce(pg, fingerprint: fingerprint)
                }
            } catch {
                return .failure(AdminStoreError.reviewDatabase(error))
            }
            // The approval is committed; a failed notification is logged, not reported as a
            // failed review (the producer also learns it on its next registration: case 3).
            var notified = false
            if let nonce {
                do throws(RedisError) {
                    try connections.withRedis { redis throws(RedisError) in
                        try AdminStore.notifyApproval(redis, prefix: prefix, nonce: nonce, fingerprint: fingerprint,
                                                      producerID: producerID, ttlSeconds: ttl)
                    }
                    notified = true
                } catch {
                    logger.error("admin_notify_failed", metadata: [
                        "event": "admin", "component": "admin_api", "action": "review", "outcome": "failure",
                        "reason_code": "redis_unavailable", "fingerprint": .string(fingerprint),
                        "producer_id": .string(producerID), "details": .string(error.description),
                    ])
                }
            }
            return .success((type, notified))
        }
        switch result {
        case .success(let (type, notified)):
            let body: JSONValue = .object(JSONObject([
                ("producer_id", .string(producerID)), ("status", .string("approved")),
                ("fingerprint", .string(fingerprint)), ("type", .string(type.rawValue)),
            ]))
            return AdminReply(status: .ok, body: body, outcome: "success", reasonCode: nil,
                              logMetadata: ["fingerprint": .string(fingerprint), "producer_id": .string(producerID),
                                            "target": .string("approve:\(type.rawValue)"),
                                            "notified": .stringConvertible(notified)])
        case .failure(let error):
            var reply = Self.failure(error)
            reply.logMetadata = ["fingerprint": .string(fingerprint), "producer_id": .string(producerID), "target": "approve"]
            return reply
        }
    }

    private func deny(producerID: String, fingerprint: String, reason: String, admin: AdminIdentity) async -> AdminReply {
        let result = await worker.run { connections -> AdminStoreError? in
            do throws(PGError) {
                try connections.withPostgres { pg throws(PGError) in
                    try AdminStore.deny(pg, fingerprint: fingerprint, reason: reason, reviewer: admin.principal)
                }
                return nil
            } catch {
                return AdminStoreError.reviewDatabase(error)
            }
        }
        if let error = result {
            var reply = Self.failure(error)
            reply.logMetadata = ["fingerprint": .string(fingerprint), "producer_id": .string(producerID), "target": "deny"]
            return reply
        }
        let body: JSONValue = .object(JSONObject([
            ("producer_id", .string(producerID)), ("status", .string("denied")),
            ("fingerprint", .string(fingerprint)), ("reason", .string(reason)),
        ]))
        return AdminReply(status: .ok, body: body, outcome: "success", reasonCode: nil,
                          logMetadata: ["fingerprint": .string(fingerprint), "producer_id": .string(producerID), "target": "deny"])
    }

    // MARK: POST /auth/revoke

    func revoke(body: [UInt8], admin: AdminIdentity) async -> AdminReply {
        guard let json = try? JSONParser.parse(body), case .object = json else {
            return Self.badRequest("bad_json", "the body must be a JSON object")
        }
        guard let jti = Self.string(json, "jti") else { return Self.badRequest("missing_jti", "jti is required") }
        let reason = Self.string(json, "reason")
        let prefix = keyPrefix
        let revocations = revocations
        let result = await worker.run { connections -> Result<Bool, AdminStoreError> in
            let known: Bool
            do throws(PGError) {
                known = try connections.withPostgres { pg throws(PGError) in try AdminStore.revoke(pg, jti: jti, reason: reason) }
            } catch {
                return .failure(AdminStoreError.storage(error))
            }
            // Committed: this kernel's ingest refuses the token from its next chunk on, before the
            // answer (docs/admin.md, "POST /auth/revoke").
            revocations?.record(.tokenRevoked(jti: jti))
            do throws(RedisError) {
                try connections.withRedis { redis throws(RedisError) in
                    try AdminStore.markRevoked(redis, prefix: prefix, jti: jti,
                                               announcement: revocations?.message(for: .tokenRevoked(jti: jti)))
                }
            } catch {
                // The database says revoked, but a cached allow entry could still pass the token,
                // and the other kernels would hear of it only at their next refresh: report the
                // failure so the operator retries (the revoke is idempotent).
                return .failure(AdminStoreError.storage(error))
            }
            return .success(known)
        }
        switch result {
        case .success(let known):
            return AdminReply(status: .noContent, body: nil, outcome: "success", reasonCode: nil,
                              logMetadata: ["jti": .string(jti), "known_token": .stringConvertible(known)])
        case .failure(let error):
            var reply = Self.failure(error)
            reply.logMetadata = ["jti": .string(jti)]
            return reply
        }
    }

    // MARK: Helpers

    /// A non-empty string member (trimmed), else nil.
    static func string(_ json: JSONValue, _ key: String) -> String? {
        guard let value = json[key]?.stringValue?.trimmingScalars(in: " \t\r\n"), !value.isEmpty else { return nil }
        return value
    }

    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (i, b) in bytes.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if b != UInt8(ascii: "-") { return false }
            } else if !((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)) {
                return false
            }
        }
        return true
    }

    static func badRequest(_ code: String, _ detail: String) -> AdminReply {
        failure(AdminStoreError.refused(code, detail))
    }

    static func failure(_ error: AdminStoreError) -> AdminReply {
        let body: JSONValue = .object(JSONObject([("error", .string(error.code)), ("detail", .string(error.detail))]))
        return AdminReply(status: HTTPResponse.Status(code: error.status), body: body, outcome: "failure",
                          reasonCode: error.code, detail: error.detail)
    }
}
