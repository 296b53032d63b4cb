import KernelMetrics
import KernelRedis
import KernelSSH

/// Admin authentication (docs/admin.md, "Admin authentication"), in this order: admin CA configured → TLS client
/// certificate present (when TLS is on) → allowed subjects → auth headers present → nonce
/// `SET NX P+"admin:nonce:"+nonce` (5 min; Redis error denies; consumed even when a later check
/// fails) → certificate checks (§4, `CertificatePolicy.admin`) → `X-SSH-Principal` → the
/// certificate's `source-address` → Ed25519 signature over the admin signing string.
struct AdminAuthenticator: Sendable {
    /// What the HTTP layer extracted from one request.
    struct Credentials: Sendable {
        var method: String
        /// URL path without the query string: the signed path.
        var path: String
        var body: [UInt8]
        var certificate: String?
        var principal: String?
        var nonce: String?
        var signature: String?
        /// Textual peer IP, when known.
        var peerAddress: String?
        /// TLS client certificate names (CN then DNS SANs); nil when no certificate was presented.
        var clientCertificateNames: [String]?
    }

    /// Nonces live 5 minutes (docs/onboarding.md, "Rate limits and anti-replay").
    static let nonceTTLSeconds = 300

    let policy: CertificatePolicy
    let adminPrincipal: String?
    let allowedSubjects: [String]
    let tlsEnabled: Bool
    let keyPrefix: String
    let metrics: KernelMetrics
    let worker: BlockingWorker
    let now: @Sendable () -> Int64

    func authenticate(_ request: Credentials) async -> Result<AdminIdentity, AdminDenial> {
        guard policy.caKey != nil else {
            return .failure(AdminDenial(.adminCANotConfigured, "auth.admin_ssh_ca is unset or unparseable"))
        }
        if tlsEnabled {
            guard let names = request.clientCertificateNames else {
                metrics.adminMTLSDeniedTotal.increment()
                return .failure(AdminDenial(.clientCertificateMissing, "no TLS client certificate"))
            }
            if !allowedSubjects.isEmpty {
                let allowed = Set(allowedSubjects.map { $0.trimmingScalars(in: " \t").lowercased() })
                guard names.contains(where: { allowed.contains($0.trimmingScalars(in: " \t").lowercased()) }) else {
                    metrics.adminMTLSDeniedTotal.increment()
                    return .failure(AdminDenial(.clientSubjectNotAllowed, "client certificate names \(names) not allowed"))
                }
            }
        }
        guard let certLine = request.certificate?.trimmingScalars(in: " \t\r\n"), !certLine.isEmpty,
              let nonce = request.nonce, !nonce.isEmpty,
              let signature = request.signature?.trimmingScalars(in: " \t"), !signature.isEmpty else {
            var missing: [String] = []
            if (request.certificate ?? "").isEmpty { missing.append("X-SSH-Cert") }
            if (request.nonce ?? "").isEmpty { missing.append("X-Admin-Nonce") }
            if (request.signature ?? "").isEmpty { missing.append("X-Admin-Signature") }
            return .failure(AdminDenial(.missingHeaders, "missing \(missing.joined(separator: ", "))"))
        }
        switch await consumeNonce(nonce) {
        case .fresh: break
        case .replayed:
            metrics.adminReplayTotal.increment()
            return .failure(AdminDenial(.replay, "nonce already used"))
        case .failed(let message):
            return .failure(AdminDenial(.nonceStoreUnavailable, "cannot record the nonce: \(message)"))
        }
        let checked: CheckedCertificate
        switch policy.check(certLine: certLine, now: now()) {
        case .success(let c): checked = c
        case .failure(let error): return .failure(AdminDenial(.certificateRefused, error.description))
        }
        if let principal = request.principal, !principal.isEmpty {
            guard checked.principals.contains(where: { $0.utf8.elementsEqual(principal.utf8) }) else {
                return .failure(AdminDenial(.principalMismatch, "X-SSH-Principal is not a principal of key id \(checked.keyID)"))
            }
            if let adminPrincipal, !adminPrincipal.utf8.elementsEqual(principal.utf8) {
                return .failure(AdminDenial(.principalMismatch, "X-SSH-Principal differs from auth.admin_principal"))
            }
        }
        for option in checked.criticalOptions where option.name == "source-address" {
            guard let list = option.value, let peer = request.peerAddress, SourceAddress.allows(list: list, peer: peer) else {
                return .failure(AdminDenial(.sourceAddressMismatch,
                                            "peer \(request.peerAddress ?? "unknown") not in source-address of key id \(checked.keyID)"))
            }
        }
        let message = ProducerSignature.adminSigningBytes(body: request.body, method: request.method, path: request.path, nonce: nonce)
        guard ProducerSignature.verify(certifiedKey: checked.certifiedKey, message: message, signatureBase64: signature) else {
            metrics.adminSignatureInvalidTotal.increment()
            return .failure(AdminDenial(.badSignature, "signature of key id \(checked.keyID) does not verify"))
        }
        let principal = (request.principal?.isEmpty == false ? request.principal : nil) ?? checked.principals.first ?? ""
        return .success(AdminIdentity(principal: principal, keyID: checked.keyID, serial: checked.serial,
                                      fingerprint: checked.fingerprint))
    }

    enum NonceOutcome: Sendable { case fresh, replayed, failed(String) }

    /// `SET NX P+"admin:nonce:"+nonce 1 EX 300` on the worker thread.
    func consumeNonce(_ nonce: String) async -> NonceOutcome {
        let key = keyPrefix + "admin:nonce:" + nonce
        return await worker.run { connections in
            do throws(RedisError) {
                let reply = try connections.withRedis { redis throws(RedisError) in
                    try redis.command(["SET", key, "1", "NX", "EX", String(Self.nonceTTLSeconds)])
                }
                switch reply {
                case .status, .string: return .fresh
                case .null: return .replayed
                case .error(let message): return .failed(message)
                default: return .failed("unexpected reply")
                }
            } catch {
                return .failed(error.description)
            }
        }
    }
}
