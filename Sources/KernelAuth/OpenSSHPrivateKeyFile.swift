import KernelCrypto
/// Parses an OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`, the
/// "openssh-key-v1" format of OpenSSH's PROTOCOL.key) holding one unencrypted Ed25519 key.
///
/// Passphrase-protected files (cipher ≠ `none`) are refused with a clear error: decrypting them
/// needs bcrypt-pbkdf and AES-CTR, which this module does not implement. Everything in the file
/// is untrusted: every length is bounds-checked, and the private half must match the public key.
enum OpenSSHPrivateKeyFile {
    static let beginMarker = "-----BEGIN OPENSSH PRIVATE KEY-----"
    static let endMarker = "-----END OPENSSH PRIVATE KEY-----"
    private static let magic = Array("openssh-key-v1".utf8) + [0]

    /// The decoded key: the 32-byte seed and the 32-byte public key.
    struct Key {
        var seed: [UInt8]
        var publicKey: [UInt8]
    }

    static func parse(_ text: String) throws(AuthKeyError) -> Key {
        let binary = try armoredBody(text)
        var reader = SSHWireReader(binary)
        guard reader.readBytes(magic.count) == magic else {
            throw bad("not an \"openssh-key-v1\" key (only the OpenSSH private key format is supported)")
        }
        guard let cipher = reader.readString(), let kdf = reader.readString(), reader.readString() != nil else {
            throw bad("truncated header")
        }
        if cipher != Array("none".utf8) {
            throw AuthKeyError(.encryptedKeyFile,
                               "passphrase-protected keys are not supported; remove the passphrase with "
                               + "`ssh-keygen -p -N '' -f FILE` (on a copy kept with file mode 0600), or put the key "
                               + "in auth.private_key / KERNEL_AUTH_PRIVATE_KEY")
        }
        guard kdf == Array("none".utf8) else { throw bad("kdf set although the key is not encrypted") }
        guard reader.readUInt32() == 1 else { throw bad("expected exactly one key") }
        guard let publicBlob = reader.readString(), let privateSection = reader.readString(), reader.isAtEnd else {
            throw bad("truncated key sections")
        }
        let publicKey = try ed25519PublicKey(fromBlob: publicBlob)
        return try parsePrivateSection(privateSection, publicKey: publicKey)
    }

    /// The base64 between the markers, decoded.
    private static func armoredBody(_ text: String) throws(AuthKeyError) -> [UInt8] {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { $0.trimmingASCIISpaces() }
            .filter { !$0.isEmpty }
        guard let begin = lines.firstIndex(of: beginMarker) else {
            throw bad("missing \(beginMarker) (PEM and PKCS#8 keys are not supported: convert with `ssh-keygen -p -N '' -f FILE`)")
        }
        guard let end = lines[begin...].firstIndex(of: endMarker) else { throw bad("missing \(endMarker)") }
        let body = lines[(begin + 1)..<end].joined()
        guard let binary = Base64.standardDecode(body) else { throw bad("the key body is not base64") }
        return binary
    }

    private static func ed25519PublicKey(fromBlob blob: [UInt8]) throws(AuthKeyError) -> [UInt8] {
        var reader = SSHWireReader(blob)
        guard let type = reader.readString() else { throw bad("truncated public key") }
        guard type == Array("ssh-ed25519".utf8) else {
            throw bad("the key is \(printable(type)), only ssh-ed25519 is supported")
        }
        guard let raw = reader.readString(), raw.count == 32, reader.isAtEnd else {
            throw bad("malformed ssh-ed25519 public key")
        }
        return raw
    }

    /// `checkint checkint keytype pk sk comment padding` (unencrypted, block size 8).
    private static func parsePrivateSection(_ section: [UInt8], publicKey: [UInt8]) throws(AuthKeyError) -> Key {
        guard section.count % 8 == 0 else { throw bad("private section is not padded to the block size") }
        var reader = SSHWireReader(section)
        guard let check1 = reader.readUInt32(), let check2 = reader.readUInt32(), check1 == check2 else {
            throw bad("check integers differ (corrupt file)")
        }
        guard let type = reader.readString(), type == Array("ssh-ed25519".utf8) else {
            throw bad("private key type is not ssh-ed25519")
        }
        guard let pk = reader.readString(), pk.count == 32, pk == publicKey else {
            throw AuthKeyError(.mismatchedPublicKey, "the private section's public key differs from the file's public key")
        }
        guard let sk = reader.readString(), sk.count == 64 else { throw bad("the Ed25519 private key is not 64 bytes") }
        guard Array(sk[32...]) == publicKey else {
            throw AuthKeyError(.mismatchedPublicKey, "the private key's public half differs from the file's public key")
        }
        guard reader.readString() != nil else { throw bad("truncated comment") }
        let padding = reader.readRest()
        guard padding.count < 8 else { throw bad("too much padding") }
        for (i, byte) in padding.enumerated() where Int(byte) != i + 1 {
            throw bad("bad padding (corrupt file)")
        }
        return Key(seed: Array(sk[..<32]), publicKey: publicKey)
    }

    private static func bad(_ message: String) -> AuthKeyError {
        AuthKeyError(.badKeyFile, message)
    }

    private static func printable(_ bytes: [UInt8]) -> String {
        let limited = bytes.prefix(40).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
        return "\"" + String(decoding: limited, as: UTF8.self) + "\""
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingASCIISpaces() -> String {
        var s = self[...]
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return String(s)
    }
}
