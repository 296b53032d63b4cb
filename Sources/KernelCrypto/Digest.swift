import COpenSSL

/// Message digests from libcrypto: SHA-1 (the id Redis gives a Lua script, for EVALSHA), SHA-256
/// (event content digests), SHA-512, and SHA3-512 (migration checksums, key fingerprints).
///
/// Each algorithm is fetched from libcrypto once: OpenSSL 3's one-shot calls (`SHA256()`,
/// `EVP_Digest` with `EVP_sha256()`) look the implementation up on every call, which measured
/// 478 ns against 267 ns for a 340-byte input. A fetched algorithm is immutable and may be used
/// from any thread.
public enum Digest: Sendable {
    case sha1, sha256, sha512, sha3_512

    /// Output size in bytes.
    public var size: Int {
        switch self {
        case .sha1: return 20
        case .sha256: return 32
        case .sha512, .sha3_512: return 64
        }
    }

    fileprivate var algorithm: FetchedAlgorithm {
        switch self {
        case .sha1: return .sha1
        case .sha256: return .sha256
        case .sha512: return .sha512
        case .sha3_512: return .sha3_512
        }
    }

    /// The digest of `data`.
    public func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        let context = DigestContext(self)
        let input = Array(data)
        return input.withUnsafeBytes { context.digest($0) }
    }

    /// The digest of `data` as lowercase hex.
    public func hex<C: Collection>(_ data: C) -> String where C.Element == UInt8 {
        Hex.lowercase(hash(data))
    }
}

/// One fetched `EVP_MD`, kept for the life of the process.
private final class FetchedAlgorithm: @unchecked Sendable {
    // @unchecked: the pointer is set once and libcrypto allows a fetched algorithm to be used
    // from several threads at once.
    let md: OpaquePointer

    init(_ name: String) {
        // Fails only without the default provider: nothing sensible to go on with.
        guard let md = EVP_MD_fetch(nil, name, nil) else { preconditionFailure("\(name) unavailable in libcrypto") }
        self.md = md
    }

    static let sha1 = FetchedAlgorithm("SHA1")
    static let sha256 = FetchedAlgorithm("SHA256")
    static let sha512 = FetchedAlgorithm("SHA512")
    static let sha3_512 = FetchedAlgorithm("SHA3-512")
}

/// A digest context reused across calls (one allocation for many digests). Not thread-safe: one
/// per thread or per owner, like a writer's.
public final class DigestContext {
    private let algorithm: FetchedAlgorithm
    private let size: Int
    private let context: OpaquePointer

    public init(_ digest: Digest) {
        algorithm = digest.algorithm
        size = digest.size
        guard let context = dk_evp_md_ctx_new() else { preconditionFailure("EVP_MD_CTX_new failed: out of memory") }
        self.context = context
    }

    deinit { dk_evp_md_ctx_free(context) }

    /// The digest of `data`.
    public func digest(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBytes { digest(data, into: $0) }
        return out
    }

    /// Writes the digest of `data` into `out` (at least the digest's size).
    public func digest(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= size, "digest output buffer too small")
        var length: UInt32 = 0
        let ok = EVP_DigestInit_ex2(context, algorithm.md, nil) == 1
            && EVP_DigestUpdate(context, data.baseAddress, data.count) == 1
            && EVP_DigestFinal_ex(context, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length) == 1
        // Fails only on allocation failure: nothing sensible to go on with.
        precondition(ok && Int(length) == size, "digest failed in libcrypto")
    }
}

/// Lowercase hexadecimal.
public enum Hex {
    public static func lowercase<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
