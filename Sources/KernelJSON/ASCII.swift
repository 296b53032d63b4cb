/// Byte constants for the grammar, so the scanners read like the RFC.
enum ASCII {
    static let quote: UInt8 = 0x22         // "
    static let backslash: UInt8 = 0x5C     // \
    static let slash: UInt8 = 0x2F         // /
    static let comma: UInt8 = 0x2C         // ,
    static let colon: UInt8 = 0x3A         // :
    static let openBrace: UInt8 = 0x7B     // {
    static let closeBrace: UInt8 = 0x7D    // }
    static let openBracket: UInt8 = 0x5B   // [
    static let closeBracket: UInt8 = 0x5D  // ]
    static let minus: UInt8 = 0x2D         // -
    static let plus: UInt8 = 0x2B          // +
    static let dot: UInt8 = 0x2E           // .
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let lowerE: UInt8 = 0x65
    static let upperE: UInt8 = 0x45
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- zero < 10 }

    @inline(__always)
    static func isWhitespace(_ c: UInt8) -> Bool {
        c == space || c == newline || c == carriageReturn || c == tab
    }

    /// The value of a hex digit, or nil.
    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c &- 0x30)
        case 0x41...0x46: return UInt32(c &- 0x41 &+ 10)
        case 0x61...0x66: return UInt32(c &- 0x61 &+ 10)
        default: return nil
        }
    }

    /// True if any of the eight bytes in `w` is `"`, `\` or below 0x20: the bytes a JSON string can
    /// neither hold raw nor write raw. (Classic SWAR zero-byte tests; exact for "any byte".)
    @inline(__always)
    static func hasStringSpecial(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let q = w ^ (ones &* UInt64(quote))
        let b = w ^ (ones &* UInt64(backslash))
        let special = ((q &- ones) & ~q) | ((b &- ones) & ~b) | ((w &- ones &* 0x20) & ~w)
        return special & 0x8080_8080_8080_8080 != 0
    }
}
