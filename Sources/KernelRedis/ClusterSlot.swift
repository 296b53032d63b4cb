/// Redis Cluster key hashing: `slot = CRC16(key) mod 16384`, where only the hash tag is hashed when
/// the key has one (the bytes between the first `{` and the next `}`, if that is not empty). Keys
/// sharing a tag, like `t1:events:{0}` and `t2:pending:{0}`, always land in the same slot.
public enum ClusterSlot {
    public static let count = 16384

    /// The slot of `key`, as `CLUSTER KEYSLOT` computes it.
    public static func of(_ key: some Collection<UInt8>) -> Int {
        let bytes = Array(key)
        return Int(crc16(hashTag(bytes))) & (count - 1)
    }

    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    /// The part of `key` that is hashed: the first non-empty `{...}`, else the whole key.
    static func hashTag(_ key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1
        else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16-CCITT in its XMODEM form (poly 0x1021, init 0), the one Redis uses.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for b in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ b)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { i in
        var c = UInt16(i) << 8
        for _ in 0..<8 { c = (c & 0x8000) != 0 ? (c << 1) ^ 0x1021 : c << 1 }
        return c
    }
}
