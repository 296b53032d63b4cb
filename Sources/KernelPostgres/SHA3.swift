import COpenSSL

/// SHA3-512 via libcrypto, for migration checksums.
enum SHA3 {
    /// Lowercase hex SHA3-512 of `bytes`; nil only if libcrypto fails (no SHA3 provider).
    static func sha512Hex(_ bytes: [UInt8]) -> String? {
        var digest = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha3_512(), nil)
            }
        }
        guard ok == 1, length == 64 else { return nil }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(128)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
