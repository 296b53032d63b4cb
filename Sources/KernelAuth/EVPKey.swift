import COpenSSL

/// Owns one libcrypto `EVP_PKEY`. Never modified after creation, and OpenSSL 3 allows a key that
/// is not modified to be used from several threads at once, hence `@unchecked Sendable`.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { EVP_PKEY_free(pointer) }

    /// An Ed25519 public key from its 32 raw bytes.
    static func ed25519Public(_ raw: [UInt8]) throws(AuthKeyError) -> EVPKey {
        guard raw.count == 32 else {
            throw AuthKeyError(.badEncoding, "an Ed25519 public key is 32 bytes, got \(raw.count)")
        }
        let made = raw.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let made else {
            throw AuthKeyError(.crypto, "libcrypto refused the Ed25519 public key: \(OpenSSLError.drain())")
        }
        return EVPKey(made)
    }

    /// An Ed25519 private key from its 32-byte seed.
    static func ed25519Private(seed: [UInt8]) throws(AuthKeyError) -> EVPKey {
        guard seed.count == 32 else {
            throw AuthKeyError(.badEncoding, "an Ed25519 seed is 32 bytes, got \(seed.count)")
        }
        let made = seed.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let made else {
            throw AuthKeyError(.crypto, "libcrypto refused the Ed25519 seed: \(OpenSSLError.drain())")
        }
        return EVPKey(made)
    }

    /// The 32 raw public-key bytes (derived from the seed for a private key).
    func rawPublicKey() throws(AuthKeyError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length = out.count
        let rc = out.withUnsafeMutableBufferPointer { EVP_PKEY_get_raw_public_key(pointer, $0.baseAddress, &length) }
        guard rc == 1, length == 32 else {
            throw AuthKeyError(.crypto, "cannot read the Ed25519 public key: \(OpenSSLError.drain())")
        }
        return out
    }
}
