#if canImport(Glibc)
import Glibc
#endif

/// The OpenSSH `source-address` critical option: a comma-separated list of addresses and CIDR
/// blocks (IPv4 or IPv6). The admin certificate is honoured only from a listed address.
enum SourceAddress {
    /// True if `peer` (textual IP) lies in one of the comma-separated `list` entries. A malformed
    /// entry matches nothing; an unparseable peer matches nothing.
    static func allows(list: String, peer: String) -> Bool {
        guard let peerBytes = parse(address: peer) else { return false }
        for entry in list.split(separator: ",") {
            let text = entry.trimmingScalars(in: " \t")
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let network = parse(address: String(parts[0])) else { continue }
            let family = network.count * 8
            var bits = family
            if parts.count == 2 {
                guard let b = Int(parts[1]), (0...family).contains(b) else { continue }
                bits = b
            }
            // Compare an IPv4 network with an IPv4-mapped IPv6 peer (::ffff:a.b.c.d) too.
            var candidate = peerBytes
            if network.count == 4, candidate.count == 16, candidate[0..<12].elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]) {
                candidate = Array(candidate[12...])
            }
            guard candidate.count == network.count else { continue }
            if prefixMatches(candidate, network, bits: bits) { return true }
        }
        return false
    }

    static func prefixMatches(_ a: [UInt8], _ b: [UInt8], bits: Int) -> Bool {
        var remaining = bits
        var i = 0
        while remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : UInt8(truncatingIfNeeded: 0xff << (8 - remaining))
            if a[i] & mask != b[i] & mask { return false }
            remaining -= 8
            i += 1
        }
        return true
    }

    /// 4 or 16 bytes, or nil.
    static func parse(address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
