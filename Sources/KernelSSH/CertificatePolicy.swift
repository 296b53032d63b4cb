import KernelCrypto
/// What a certificate must satisfy, and the check itself (docs/protocol.md, "OpenSSH certificates"; OpenSSH's
/// `sshkey_cert_check_authority` plus the CA-key identity and signature checks).
public struct CertificatePolicy: Sendable {
    /// The CA whose signature is required; nil (no CA, or an unparseable one) refuses everything
    /// with `wrong_ca`.
    public var caKey: SSHPublicKey?
    /// User (1) or host (2) certificates.
    public var requireType: SSHCertificate.Kind
    /// When non-empty, one of the certificate's principals must be one of these (byte-exact).
    public var principals: [String]
    /// When true, a certificate without principals is refused (admins).
    public var requireCertificatePrincipal: Bool
    /// Clock tolerance applied to both ends of the validity window.
    public var skewSeconds: UInt64
    /// Critical options tolerated; any other refuses the certificate (producers: none; admins:
    /// `source-address`).
    public var allowedCriticalOptions: Set<String>
    /// Certified key algorithms accepted (Ed25519 only, it verifies Ed25519 request
    /// signatures).
    public var acceptedCertifiedKeys: Set<SSHPublicKey.Algorithm>

    public init(caKey: SSHPublicKey?, requireType: SSHCertificate.Kind = .user, principals: [String] = [],
                requireCertificatePrincipal: Bool = false, skewSeconds: UInt64 = 0,
                allowedCriticalOptions: Set<String> = [], acceptedCertifiedKeys: Set<SSHPublicKey.Algorithm> = [.ed25519]) {
        self.caKey = caKey
        self.requireType = requireType
        self.principals = principals
        self.requireCertificatePrincipal = requireCertificatePrincipal
        self.skewSeconds = skewSeconds
        self.allowedCriticalOptions = allowedCriticalOptions
        self.acceptedCertifiedKeys = acceptedCertifiedKeys
    }

    /// Producers: user certificates, no critical options, principals only if configured
    /// (`auth.producer_principals`), Ed25519 certified keys.
    public static func producer(caKey: SSHPublicKey?, principals: [String] = [], skewSeconds: UInt64 = 0) -> CertificatePolicy {
        CertificatePolicy(caKey: caKey, principals: principals, skewSeconds: skewSeconds)
    }

    /// Admins: user certificates whose principals contain `principal` (`auth.admin_principal`; when
    /// unset, at least one principal), only `source-address` tolerated, Ed25519 certified keys.
    public static func admin(caKey: SSHPublicKey?, principal: String?, skewSeconds: UInt64 = 0) -> CertificatePolicy {
        CertificatePolicy(caKey: caKey, principals: principal.map { [$0] } ?? [], requireCertificatePrincipal: true,
                          skewSeconds: skewSeconds, allowedCriticalOptions: ["source-address"])
    }

    /// Checks one authorized_keys-format certificate line at Unix time `now`, in the order of docs/protocol.md, "OpenSSH certificates":
    /// parse → CA identity → CA signature → validity window → certificate type → critical options →
    /// principals → certified key type. The first failure is returned.
    public func check(certLine: String, now: Int64) -> Result<CheckedCertificate, CertificateError> {
        do throws(CertificateError) {
            return .success(try checked(certLine, now: now))
        } catch {
            return .failure(error)
        }
    }

    private func checked(_ line: String, now: Int64) throws(CertificateError) -> CheckedCertificate {
        // 1. An authorized_keys line holding a certificate.
        guard let parsed = AuthorizedKeysLine(line) else { throw Self.classifyUnparsedLine(line) }
        guard SSHCertificate.types[parsed.type] != nil else {
            throw Self.classifyType(parsed.type)
        }
        // The blob must be of the type the line names (whatever that inner type is).
        var peek = SSHWireReader(parsed.blob)
        guard let blobType = peek.readString(), blobType == Array(parsed.type.utf8) else {
            throw CertificateError(.malformed, "the blob's type differs from the line's \(parsed.type)")
        }
        let cert = try SSHCertificate.parse(wire: parsed.blob)
        let id = cert.keyID
        // 2. Signed by the configured CA (wire encodings compared).
        guard let caKey else { throw CertificateError(.wrongCA, "no usable CA key is configured", keyID: id) }
        guard cert.signatureKeyWire == caKey.wireEncoding else {
            throw CertificateError(.wrongCA, "signed by another key", keyID: id)
        }
        // 3. The CA signature over everything before the signature field.
        switch caKey.verifySSHSignature(cert.signature, over: cert.signedBytes) {
        case .valid: break
        case .weakAlgorithm:
            throw CertificateError(.weakSignatureAlgorithm, "ssh-rsa (SHA-1) CA signatures are refused", keyID: id)
        case .invalid: throw CertificateError(.badCASignature, "the CA signature does not verify", keyID: id)
        case .malformed: throw CertificateError(.badCASignature, "the CA signature is malformed", keyID: id)
        }
        // 4. Validity window, unsigned arithmetic (no overflow near 2^63 or 2^64).
        let nowU: UInt64 = now < 0 ? 0 : UInt64(now)
        let (late, lateOverflow) = nowU.addingReportingOverflow(skewSeconds)
        let early = nowU >= skewSeconds ? nowU - skewSeconds : 0
        if cert.validAfter != 0 && !lateOverflow && late < cert.validAfter {
            throw CertificateError(.notYetValid, "valid from \(cert.validAfter), now \(now)", keyID: id)
        }
        if cert.validBefore != 0 && cert.validBefore != UInt64.max && early > cert.validBefore {
            throw CertificateError(.expired, "valid until \(cert.validBefore), now \(now)", keyID: id)
        }
        // OpenSSH's authority checks.
        guard cert.kind == requireType else {
            throw CertificateError(.wrongCertType, "a \(cert.kind) certificate where a \(requireType) one is required", keyID: id)
        }
        if let option = cert.criticalOptions.first(where: { !allowedCriticalOptions.contains($0.name) }) {
            throw CertificateError(.unknownCriticalOption, "critical option \(printable(option.name)) is not supported", keyID: id)
        }
        if !principals.isEmpty {
            let match = cert.principals.contains { p in principals.contains { sameBytes($0, p) } }
            guard match else {
                throw CertificateError(.principalMismatch, "no principal of \(cert.principals.map(printable)) is accepted", keyID: id)
            }
        } else if requireCertificatePrincipal && cert.principals.isEmpty {
            throw CertificateError(.principalMismatch, "the certificate names no principal", keyID: id)
        }
        // 5. The certified key must be one the request signature can be checked with.
        guard acceptedCertifiedKeys.contains(cert.certifiedKey.algorithm) else {
            throw CertificateError(.unsupportedKeyType, "certified key is \(cert.certifiedKey.algorithm.rawValue)", keyID: id)
        }
        return CheckedCertificate(certificate: cert, comment: parsed.comment)
    }

    /// Why a line that is not `type blob [comment]` with valid base64 was refused.
    static func classifyUnparsedLine(_ line: String) -> CertificateError {
        let first = line.utf8.drop { $0 == 0x20 || $0 == 0x09 }.prefix { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        let type = String(decoding: first, as: UTF8.self)
        if SSHCertificate.types[type] != nil {
            return CertificateError(.malformed, "certificate line without a valid base64 blob")
        }
        if type.isEmpty || line.utf8.count > AuthorizedKeysLine.maxLength {
            return CertificateError(.notACertificate, "not an authorized_keys line")
        }
        return classifyType(type)
    }

    /// Why a line whose type is not a supported certificate type was refused.
    static func classifyType(_ type: String) -> CertificateError {
        if SSHPublicKey.Algorithm(rawValue: type) != nil || type.hasPrefix("sk-") && !SSHCertificate.looksLikeCertificateType(type)
            || type == "ssh-dss" {
            return CertificateError(.plainKey, "\(printable(type)) is a plain public key, not a certificate")
        }
        if SSHCertificate.looksLikeCertificateType(type) {
            return CertificateError(.unsupportedKeyType, "certificate type \(printable(type)) is not supported")
        }
        return CertificateError(.notACertificate, "type \(printable(type)) is not a certificate type")
    }
}

extension SSHCertificate.Kind: CustomStringConvertible {
    public var description: String { self == .user ? "user" : "host" }
}

/// Byte equality: principals are byte strings to OpenSSH; Swift's `==` would also equate
/// canonically-equivalent Unicode spellings.
func sameBytes(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
}
