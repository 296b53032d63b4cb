import COpenSSL
import Synchronization
import KernelCrypto

/// ULIDs (github.com/ulid/spec): 48-bit Unix milliseconds then 80 random bits, written as 26
/// Crockford base32 characters, so they sort by time as text. Used as token `jti`.
public enum ULID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A fresh ULID for `milliseconds` (Unix time), from the process-wide monotonic generator.
    public static func make(milliseconds: Int64) -> String {
        ULIDGenerator.shared.next(milliseconds: milliseconds)
    }

    /// True for 26 Crockford base32 characters (upper case, no I L O U) whose first is 0–7
    /// (the 130-bit text holds a 128-bit value).
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 26, bytes[0] >= UInt8(ascii: "0"), bytes[0] <= UInt8(ascii: "7") else { return false }
        return bytes.allSatisfy { alphabet.contains($0) }
    }

    /// The millisecond timestamp of a valid ULID, else nil.
    public static func milliseconds(of text: String) -> Int64? {
        guard isValid(text) else { return nil }
        var value: Int64 = 0
        for byte in text.utf8.prefix(10) {
            value = value << 5 | Int64(alphabet.firstIndex(of: byte)!)
        }
        return value
    }

    /// The text of the 128-bit value `high:low` (high = 48-bit time ‖ top 16 random bits).
    static func encode(high: UInt64, low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 26) { out in
            for i in 0..<26 {
                // Character i holds bits [shift, shift+5) of the value read as 130 bits (2 leading zeros).
                let shift = 125 - 5 * i
                let group: UInt64
                if shift >= 64 {
                    group = high >> UInt64(shift - 64)
                } else if shift + 5 <= 64 {
                    group = low >> UInt64(shift)
                } else {
                    group = low >> UInt64(shift) | high << UInt64(64 - shift)
                }
                out[i] = alphabet[Int(group & 31)]
            }
            return 26
        }
    }
}

/// Hands out strictly increasing ULIDs: within one millisecond (or when the clock steps back) the
/// previous random part is incremented instead of drawn again (the spec's monotonic mode).
final class ULIDGenerator: Sendable {
    static let shared = ULIDGenerator()

    private struct State {
        var milliseconds: UInt64 = 0
        var randomHigh: UInt16 = 0
        var randomLow: UInt64 = 0
        var started = false
    }

    private let state = Mutex(State())

    func next(milliseconds requested: Int64) -> String {
        // 48 bits of milliseconds last until the year 10889; clamp anything outside.
        let requestedMs = UInt64(min(max(requested, 0), (Int64(1) << 48) - 1))
        let (high, low) = state.withLock { s -> (UInt64, UInt64) in
            if s.started, requestedMs <= s.milliseconds {
                // Same millisecond or a clock step back: stay on the last time, add one.
                let (low, carry) = s.randomLow.addingReportingOverflow(1)
                s.randomLow = low
                if carry {
                    let (high, carryHigh) = s.randomHigh.addingReportingOverflow(1)
                    s.randomHigh = high
                    if carryHigh {
                        // 2^80 ids in one millisecond cannot happen; move on to the next one.
                        s.milliseconds += 1
                        (s.randomHigh, s.randomLow) = ULIDGenerator.randomBits()
                    }
                }
            } else {
                s.milliseconds = requestedMs
                (s.randomHigh, s.randomLow) = ULIDGenerator.randomBits()
                s.started = true
            }
            return (s.milliseconds << 16 | UInt64(s.randomHigh), s.randomLow)
        }
        return ULID.encode(high: high, low: low)
    }

    /// 80 bits from libcrypto's CSPRNG (jti values must not be guessable).
    private static func randomBits() -> (UInt16, UInt64) {
        var bytes = [UInt8](repeating: 0, count: 10)
        let rc = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, 10) }
        guard rc == 1 else { fatalError("RAND_bytes failed: \(OpenSSLError.drain())") }
        var low: UInt64 = 0
        for byte in bytes[2...] { low = low << 8 | UInt64(byte) }
        return (UInt16(bytes[0]) << 8 | UInt16(bytes[1]), low)
    }
}
