import KernelSSH

/// A producer key that passed the certificate and signature checks.
public struct CheckedProducerKey: Sendable {
    /// The fingerprint of the certified key (docs/protocol.md, "Fingerprints").
    public let fingerprint: String
    /// The certificate's key id (for logs).
    public let keyID: String
    /// The certified Ed25519 key that verified the request signature.
    public let certifiedKey: SSHPublicKey
    /// The certificate's principals.
    public let principals: [String]
}

/// The verdict on a signed producer request.
public enum ProducerCheckResult: Sendable {
    case ok(CheckedProducerKey)
    /// The certificate failed a check of docs/protocol.md, "OpenSSH certificates". `fingerprint` is the certified key's (or the plain
    /// key's) when the line could be parsed that far.
    case invalidCertificate(CertificateError, fingerprint: String?)
    /// The certificate is good but the signature over `Canonical(payload)+"."+nonce` is not.
    case invalidSignature(fingerprint: String)

    /// The fingerprint, when known.
    public var fingerprint: String? {
        switch self {
        case .ok(let key): key.fingerprint
        case .invalidCertificate(_, let fingerprint): fingerprint
        case .invalidSignature(let fingerprint): fingerprint
        }
    }
}

/// The certificate checks (docs/protocol.md, "OpenSSH certificates") plus the request signature
/// (docs/protocol.md, "Signing strings and signatures"), for every producer flow.
///
/// The same checks run in every flow (registration, deregistration, token exchange,
/// subject and schema operations): the older implementation only compared the CA key in the
/// token/subject/schema flows, so an expired or forged certificate worked there. `Flow` therefore
/// changes nothing but the log field; it exists so callers say which flow they check.
public struct ProducerRequestCheck: Sendable {
    public enum Flow: String, Sendable {
        case registration
        case deregistration
        case tokenExchange = "token_exchange"
        case subject
        case schemaUpgrade = "schema_upgrade"
    }

    public let policy: CertificatePolicy

    public init(policy: CertificatePolicy) {
        self.policy = policy
    }

    public init(settings: OnboardingSettings) {
        self.init(policy: settings.certificatePolicy)
    }

    /// Checks `pubkey` (one certificate line) at Unix time `now`, then the Ed25519 signature
    /// `signature` (standard base64 of 64 bytes) over `Canonical(payload) + "." + nonce`.
    public func check(pubkey: [UInt8], payload: [UInt8], nonce: String, signature: String, now: Int64,
                      flow: Flow = .registration) -> ProducerCheckResult {
        let line = String(decoding: pubkey, as: UTF8.self)
        switch policy.check(certLine: line, now: now) {
        case .failure(let error):
            let fingerprint = KeyFingerprint.certifiedKeyWire(pubkey) != nil ? KeyFingerprint.of(pubkey: pubkey) : nil
            return .invalidCertificate(error, fingerprint: fingerprint)
        case .success(let checked):
            let fingerprint = checked.fingerprint
            let message = ProducerSignature.signingBytes(payload: payload, nonce: nonce)
            guard ProducerSignature.verify(certifiedKey: checked.certifiedKey, message: message, signatureBase64: signature) else {
                return .invalidSignature(fingerprint: fingerprint)
            }
            return .ok(CheckedProducerKey(fingerprint: fingerprint, keyID: checked.keyID,
                                          certifiedKey: checked.certifiedKey, principals: checked.principals))
        }
    }

    /// `check` over the message's `pubkey`, `payload`, `nonce` and `sig` fields (absent = empty).
    public func check(_ message: ControlMessage, now: Int64, flow: Flow = .registration) -> ProducerCheckResult {
        check(pubkey: message.bytes("pubkey") ?? [], payload: message.bytes("payload") ?? [],
              nonce: message.string("nonce") ?? "", signature: message.string("sig") ?? "", now: now, flow: flow)
    }
}
