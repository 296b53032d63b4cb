import COpenSSL

/// Owns one libcrypto public key. Never modified after creation; OpenSSL 3 allows concurrent use of
/// an unmodified key (each verification makes its own context), hence `@unchecked Sendable`.
public final class LibCryptoKey: @unchecked Sendable {
    public let pointer: OpaquePointer

    public init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { EVP_PKEY_free(pointer) }
}

/// The libcrypto operations the project uses: keys, signatures, digests. The OpenSSL error queue is per thread: every path
/// clears it right after a failing call, so nothing leaks into the next operation on this thread.
public enum LibCrypto {
    /// The digests SSH signatures use.
    public enum Digest: Sendable {
        case sha256, sha384, sha512

        var md: OpaquePointer? {
            switch self {
            case .sha256: return EVP_sha256()
            case .sha384: return EVP_sha384()
            case .sha512: return EVP_sha512()
            }
        }
    }

    /// An Ed25519 public key from its 32 raw bytes.
    public static func ed25519Key(_ raw: [UInt8]) -> LibCryptoKey? {
        guard raw.count == 32 else { return nil }
        let made = raw.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let made else {
            ERR_clear_error()
            return nil
        }
        return LibCryptoKey(made)
    }

    /// An Ed25519 private key from its 32-byte seed.
    public static func ed25519PrivateKey(seed: [UInt8]) -> LibCryptoKey? {
        guard seed.count == 32 else { return nil }
        let made = seed.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let made else { return nil }
        return LibCryptoKey(made)
    }

    /// The 32 raw bytes of an Ed25519 key's public half (derived from the seed for a private key).
    public static func ed25519RawPublicKey(_ key: LibCryptoKey) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 32)
        var length = out.count
        let rc = out.withUnsafeMutableBufferPointer { EVP_PKEY_get_raw_public_key(key.pointer, $0.baseAddress, &length) }
        guard rc == 1, length == 32 else { return nil }
        return out
    }

    /// An EC public key on the named group (`prime256v1`, `secp384r1`, `secp521r1`) from its
    /// uncompressed point; nil unless the point is on the curve and passes the public-key check.
    public static func ecKey(group: String, point: [UInt8]) -> LibCryptoKey? {
        // OSSL_PARAM_BLD keeps pointers to pushed buffers until OSSL_PARAM_BLD_to_param copies them,
        // so both pushes and the conversion happen inside the buffers' scopes.
        fromData(type: "EC") { bld in
            group.withCString { name in
                point.withUnsafeBytes { pub in
                    guard OSSL_PARAM_BLD_push_utf8_string(bld, dk_ossl_pkey_param_group_name(), name, 0) == 1,
                          OSSL_PARAM_BLD_push_octet_string(bld, dk_ossl_pkey_param_pub_key(), pub.baseAddress, pub.count) == 1 else { return nil }
                    return OSSL_PARAM_BLD_to_param(bld)
                }
            }
        }
    }

    /// An RSA public key from the magnitudes of `e` and `n`.
    public static func rsaKey(e: [UInt8], n: [UInt8]) -> LibCryptoKey? {
        guard let bnE = e.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, Int32($0.count), nil) }) else {
            ERR_clear_error()
            return nil
        }
        defer { BN_free(bnE) }
        guard let bnN = n.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, Int32($0.count), nil) }) else {
            ERR_clear_error()
            return nil
        }
        defer { BN_free(bnN) }
        // No libcrypto public check for RSA: it runs a randomized primality test, so a bogus
        // modulus was accepted on some calls and refused on others (found by `make fuzz`).
        // The bit-range and exponent checks are the caller's, deterministic, as in OpenSSH.
        return fromData(type: "RSA", publicCheck: false) { bld in
            guard OSSL_PARAM_BLD_push_BN(bld, dk_ossl_pkey_param_rsa_n(), bnN) == 1, OSSL_PARAM_BLD_push_BN(bld, dk_ossl_pkey_param_rsa_e(), bnE) == 1 else { return nil }
            return OSSL_PARAM_BLD_to_param(bld)
        }
    }

    /// EVP_PKEY_fromdata with the parameters `build` pushes and converts, then EVP_PKEY_public_check.
    private static func fromData(type: String, publicCheck: Bool = true,
                                 _ build: (OpaquePointer) -> UnsafeMutablePointer<OSSL_PARAM>?) -> LibCryptoKey? {
        defer { ERR_clear_error() }
        guard let bld = OSSL_PARAM_BLD_new() else { return nil }
        defer { OSSL_PARAM_BLD_free(bld) }
        guard let params = build(bld) else { return nil }
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_fromdata_init(ctx) == 1,
              EVP_PKEY_fromdata(ctx, &pkey, dk_evp_pkey_public_key_selection(), params) == 1,
              let made = pkey else { return nil }
        let key = LibCryptoKey(made)
        guard publicCheck else { return key }
        guard let check = EVP_PKEY_CTX_new_from_pkey(nil, made, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(check) }
        guard EVP_PKEY_public_check(check) == 1 else { return nil }
        return key
    }

    /// Verifies `signature` over `message`: pure Ed25519 when `digest` is nil, otherwise the
    /// key's scheme (ECDSA with a DER signature, RSA PKCS#1 v1.5) over `digest(message)`.
    public static func verify<M: Collection>(key: LibCryptoKey, digest: Digest?, signature: [UInt8], message: M) -> Bool
    where M.Element == UInt8 {
        defer { ERR_clear_error() }
        let msg = Array(message)
        // Never hand libcrypto a NULL data pointer, even for an empty message.
        let storage = msg.isEmpty ? [0] : msg
        guard let ctx = dk_evp_md_ctx_new() else { return false }
        defer { dk_evp_md_ctx_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, digest?.md, nil, key.pointer) == 1 else { return false }
        let rc = signature.withUnsafeBufferPointer { sig in
            storage.withUnsafeBufferPointer { m in
                EVP_DigestVerify(ctx, sig.baseAddress, sig.count, m.baseAddress, msg.count)
            }
        }
        return rc == 1
    }

    /// The size in bits of an RSA key's modulus.
    public static func bits(_ key: LibCryptoKey) -> Int {
        Int(EVP_PKEY_get_bits(key.pointer))
    }
}
