/// The token verification keys by `kid`: `auth.public_keys` (raw base64), `auth.public_keys_ssh`
/// (OpenSSH lines) and the issuer's own public key under `auth.key_id`. A `kid` may appear in
/// several places only if every place names the same key (older configs repeat the issuer key
/// in `public_keys`); two different keys under one `kid` are refused.
public struct VerificationKeys: Sendable {
    public private(set) var byKeyID: [String: Ed25519PublicKey] = [:]

    public init() {}

    /// From the config; `issuerKey` is the loaded issuer key, if any. Throws the first unusable entry.
    public init(auth: AuthSettings, issuerKey: Ed25519PrivateKey?) throws(AuthKeyError) {
        let (keys, problems) = VerificationKeys.collect(auth: auth, issuerKey: issuerKey)
        if let first = problems.first { throw first }
        self = keys
    }

    /// Every usable key from the config, and the problems with the others. An unusable entry is
    /// skipped; a `kid` that names two different keys is dropped altogether (neither can be trusted
    /// to be the intended one), so its tokens fail `unknown_kid`.
    public static func collect(auth: AuthSettings, issuerKey: Ed25519PrivateKey?)
        -> (keys: VerificationKeys, problems: [AuthKeyError]) {
        var candidates: [(kid: String, key: Ed25519PublicKey)] = []
        var problems: [AuthKeyError] = []
        for (kid, text) in auth.publicKeys.sorted(by: { $0.key < $1.key }) {
            do {
                candidates.append((kid, try Ed25519PublicKey(base64: text)))
            } catch {
                problems.append(AuthKeyError(error.reason, "auth.public_keys.\(kid): \(error.message)"))
            }
        }
        for (kid, line) in auth.publicKeysSSH.sorted(by: { $0.key < $1.key }) {
            do {
                candidates.append((kid, try Ed25519PublicKey(openSSHLine: line)))
            } catch {
                problems.append(AuthKeyError(error.reason, "auth.public_keys_ssh.\(kid): \(error.message)"))
            }
        }
        if let issuerKey { candidates.append((auth.keyID, issuerKey.publicKey)) }

        var keys = VerificationKeys()
        var conflicted = Set<String>()
        for (kid, key) in candidates where !conflicted.contains(kid) {
            do {
                try keys.add(key, keyID: kid)
            } catch {
                conflicted.insert(kid)
                keys.byKeyID[kid] = nil
                problems.append(AuthKeyError(.conflictingKeyID, "kid \"\(kid)\" names different keys in auth.public_keys, "
                                             + "auth.public_keys_ssh and/or the issuer key (auth.key_id); tokens with "
                                             + "this kid are refused"))
            }
        }
        return (keys, problems)
    }

    /// Adds `key` under `keyID`; the same key twice is fine, a different one is an error.
    public mutating func add(_ key: Ed25519PublicKey, keyID: String) throws(AuthKeyError) {
        if let existing = byKeyID[keyID], existing != key {
            throw AuthKeyError(.conflictingKeyID, "kid \"\(keyID)\" names two different keys")
        }
        byKeyID[keyID] = key
    }

    public subscript(keyID: String) -> Ed25519PublicKey? { byKeyID[keyID] }
}
