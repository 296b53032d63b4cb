import KernelCrypto
/// An OpenSSH certificate (PROTOCOL.certkeys, `*-cert-v01@openssh.com`), parsed but not yet trusted:
/// `CertificatePolicy.check` decides whether it is acceptable.
public struct SSHCertificate: Sendable {
    /// Certificate type field: 1 = user, 2 = host (no other value is valid).
    public enum Kind: UInt32, Sendable {
        case user = 1
        case host = 2
    }

    /// One critical option or extension: its name and raw data (for options with a value, the data is
    /// itself an SSH `string`; see `value`).
    public struct Option: Sendable, Equatable {
        public let name: String
        public let data: [UInt8]

        /// The option's value when its data is one SSH string holding text (`force-command`,
        /// `source-address`); nil for flags and malformed data.
        public var value: String? {
            var reader = SSHWireReader(data)
            guard let text = reader.readText(), reader.isAtEnd else { return nil }
            return text
        }
    }

    /// Most principals accepted (OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS).
    static let maxPrincipals = 256

    /// The certificate type name, e.g. `ssh-ed25519-cert-v01@openssh.com`.
    public let typeName: String
    public let nonce: [UInt8]
    /// The public key the certificate vouches for.
    public let certifiedKey: SSHPublicKey
    public let serial: UInt64
    public let kind: Kind
    public let keyID: String
    /// Empty means "any principal" in OpenSSH; policies may refuse that.
    public let principals: [String]
    public let validAfter: UInt64
    /// `UInt64.max` means forever.
    public let validBefore: UInt64
    public let criticalOptions: [Option]
    public let extensions: [Option]
    /// Wire encoding of the CA key that signed this certificate (compared by bytes).
    public let signatureKeyWire: [UInt8]
    /// The CA's SSH signature blob.
    public let signature: [UInt8]
    /// The bytes the signature covers: the certificate from its start up to the signature field.
    let signedBytes: [UInt8]

    /// Certificate type names → the algorithm of the key they certify.
    static let types: [String: SSHPublicKey.Algorithm] = [
        "ssh-ed25519-cert-v01@openssh.com": .ed25519,
        "ecdsa-sha2-nistp256-cert-v01@openssh.com": .ecdsaP256,
        "ecdsa-sha2-nistp384-cert-v01@openssh.com": .ecdsaP384,
        "ecdsa-sha2-nistp521-cert-v01@openssh.com": .ecdsaP521,
        "ssh-rsa-cert-v01@openssh.com": .rsa,
    ]

    /// True if `type` has the form of an OpenSSH certificate type (supported or not).
    static func looksLikeCertificateType(_ type: String) -> Bool {
        type.hasSuffix("-cert-v01@openssh.com") || type.hasSuffix("-cert-v00@openssh.com")
    }

    /// Parses a certificate blob (the decoded base64 of an authorized_keys line). The whole input must
    /// be the certificate. Nothing is verified here except structure.
    public static func parse(wire: [UInt8]) throws(CertificateError) -> SSHCertificate {
        var r = SSHWireReader(wire)
        guard let typeBytes = r.readString() else { throw CertificateError(.malformed, "no certificate type") }
        let typeName = String(decoding: typeBytes, as: UTF8.self)
        guard let algorithm = types[typeName] else {
            if looksLikeCertificateType(typeName) {
                throw CertificateError(.unsupportedKeyType, "certificate type \(printable(typeName)) is not supported")
            }
            if SSHPublicKey.Algorithm(rawValue: typeName) != nil {
                throw CertificateError(.plainKey, "\(typeName) is a plain public key, not a certificate")
            }
            throw CertificateError(.notACertificate, "type \(printable(typeName)) is not a certificate type")
        }
        guard let nonce = r.readString() else { throw CertificateError(.malformed, "truncated nonce") }
        let certifiedKey: SSHPublicKey
        do throws(SSHKeyError) {
            certifiedKey = try SSHPublicKey.readBody(algorithm, from: &r)
        } catch {
            let reason: CertificateError.Reason = error.reason == .weakKey ? .unsupportedKeyType : .malformed
            throw CertificateError(reason, "certified key: \(error.detail)")
        }
        guard let serial = r.readUInt64(), let rawKind = r.readUInt32() else {
            throw CertificateError(.malformed, "truncated serial or type")
        }
        guard let kind = Kind(rawValue: rawKind) else {
            throw CertificateError(.malformed, "certificate type \(rawKind) is neither user (1) nor host (2)")
        }
        guard let keyID = r.readText() else { throw CertificateError(.malformed, "bad or truncated key id") }
        guard let principalBytes = r.readString() else {
            throw CertificateError(.malformed, "truncated principals", keyID: keyID)
        }
        let principals = try parsePrincipals(principalBytes, keyID: keyID)
        guard let validAfter = r.readUInt64(), let validBefore = r.readUInt64() else {
            throw CertificateError(.malformed, "truncated validity", keyID: keyID)
        }
        guard let criticalBytes = r.readString(), let extensionBytes = r.readString() else {
            throw CertificateError(.malformed, "truncated options or extensions", keyID: keyID)
        }
        let critical = try parseOptions(criticalBytes, what: "critical option", keyID: keyID)
        let extensions = try parseOptions(extensionBytes, what: "extension", keyID: keyID)
        // Reserved: "currently unused and ignored" (PROTOCOL.certkeys), as OpenSSH does.
        guard r.readString() != nil, let signatureKeyWire = r.readString() else {
            throw CertificateError(.malformed, "truncated reserved field or signature key", keyID: keyID)
        }
        let signedBytes = Array(r.consumed)
        guard let signature = r.readString() else { throw CertificateError(.malformed, "truncated signature", keyID: keyID) }
        guard r.isAtEnd else {
            throw CertificateError(.malformed, "\(r.remaining) bytes after the signature", keyID: keyID)
        }
        return SSHCertificate(
            typeName: typeName, nonce: nonce, certifiedKey: certifiedKey, serial: serial, kind: kind,
            keyID: keyID, principals: principals, validAfter: validAfter, validBefore: validBefore,
            criticalOptions: critical, extensions: extensions, signatureKeyWire: signatureKeyWire,
            signature: signature, signedBytes: signedBytes)
    }

    private static func parsePrincipals(_ bytes: [UInt8], keyID: String) throws(CertificateError) -> [String] {
        var reader = SSHWireReader(bytes)
        var principals: [String] = []
        while !reader.isAtEnd {
            guard principals.count < maxPrincipals else {
                throw CertificateError(.malformed, "more than \(maxPrincipals) principals", keyID: keyID)
            }
            guard let principal = reader.readText() else { throw CertificateError(.malformed, "bad principal", keyID: keyID) }
            principals.append(principal)
        }
        return principals
    }

    /// A sequence of (name, data) pairs. Each name may appear once (PROTOCOL.certkeys).
    private static func parseOptions(_ bytes: [UInt8], what: String, keyID: String) throws(CertificateError) -> [Option] {
        var reader = SSHWireReader(bytes)
        var options: [Option] = []
        while !reader.isAtEnd {
            guard let name = reader.readText(), let data = reader.readString() else {
                throw CertificateError(.malformed, "bad \(what)", keyID: keyID)
            }
            guard !options.contains(where: { $0.name == name }) else {
                throw CertificateError(.malformed, "\(what) \(printable(name)) appears twice", keyID: keyID)
            }
            options.append(Option(name: name, data: data))
        }
        return options
    }
}
