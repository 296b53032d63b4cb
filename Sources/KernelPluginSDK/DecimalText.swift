/// An exact decimal number kept as its text, as prices and sizes must be (never through `Double`).
///
/// Grammar: `-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?`, at most `maxLength` bytes, with an exponent
/// of at most ±1000 (Postgres `numeric` rejects larger ones, and one bad value would fail a
/// whole COPY batch): the numeric grammar of kernel_plugin.h's limits table, which the host
/// applies to `set_numeric`. Leading zeros are allowed in strings ("007.5" is 7.5). `text` is the input,
/// unchanged, so JSON numbers reach Postgres exactly as published.
///
/// Comparison is numeric and exact: `1.0 == 1`, `1e2 > 99.999`, `-0 == 0`.
public struct DecimalText: Sendable, Comparable, CustomStringConvertible {
    /// The exact decimal text, as given.
    public let text: String

    /// Longest accepted text in bytes (`Limits.numericText`): ample for any price, bounded for hostile input.
    public static let maxLength = Limits.numericText
    /// Largest accepted exponent magnitude (`Limits.numericExponent`, Postgres `numeric`'s input limit).
    public static let maxExponent = Limits.numericExponent

    /// -1, 0 or 1, computed once by the validating scan.
    public let signum: Int

    /// Validates `text`; nil if it is not a decimal by the grammar above.
    public init?(_ text: String) {
        guard let sign = Self.scan(text) else { return nil }
        self.text = text
        self.signum = sign
    }

    /// A decimal from a JSON number, or from a JSON string holding decimal text; nil otherwise.
    public init?(json: JSONValue) {
        switch json {
        case .number(let t), .string(let t): self.init(t)
        default: return nil
        }
    }

    public var description: String { text }

    /// True when the value is exactly zero (`0`, `-0.000`, `0e5`).
    public var isZero: Bool { signum == 0 }
    /// True when the value is < 0 (`-0` is not negative).
    public var isNegative: Bool { signum < 0 }
    /// True when the value is > 0.
    public var isPositive: Bool { signum > 0 }

    public static func == (lhs: DecimalText, rhs: DecimalText) -> Bool { compare(lhs, rhs) == 0 }
    public static func < (lhs: DecimalText, rhs: DecimalText) -> Bool { compare(lhs, rhs) < 0 }

    /// -1, 0 or 1 as `lhs` is less than, equal to or greater than `rhs`, exactly. Allocates nothing.
    public static func compare(_ lhs: DecimalText, _ rhs: DecimalText) -> Int {
        if lhs.signum != rhs.signum { return lhs.signum < rhs.signum ? -1 : 1 }
        if lhs.signum == 0 { return 0 }
        var a = lhs.text, b = rhs.text
        let magnitude = a.withUTF8 { x in b.withUTF8 { y in compareMagnitude(x, y) } }
        return lhs.signum > 0 ? magnitude : -magnitude
    }

    /// Compares the absolute values of two validated, non-zero decimal texts: first by the
    /// position of the decimal point relative to the first significant digit, then digit by
    /// digit, a shorter mantissa reading as trailing zeros.
    static func compareMagnitude(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        let a = Shape(x), b = Shape(y)
        if a.pointPosition != b.pointPosition { return a.pointPosition < b.pointPosition ? -1 : 1 }
        var i = a.firstSignificant, j = b.firstSignificant
        while true {
            while i < a.mantissaEnd, x[i] == UInt8(ascii: ".") { i += 1 }
            while j < b.mantissaEnd, y[j] == UInt8(ascii: ".") { j += 1 }
            let dx = i < a.mantissaEnd ? x[i] : 48
            let dy = j < b.mantissaEnd ? y[j] : 48
            if dx != dy { return dx < dy ? -1 : 1 }
            if i >= a.mantissaEnd && j >= b.mantissaEnd { return 0 }
            i += 1
            j += 1
        }
    }

    /// Where the significant digits of a validated non-zero decimal text are.
    struct Shape {
        /// Index of the first non-zero digit.
        var firstSignificant = 0
        /// Index of the exponent marker, or the end.
        var mantissaEnd = 0
        /// The value is 0.d1d2… × 10^pointPosition.
        var pointPosition = 0

        init(_ u: UnsafeBufferPointer<UInt8>) {
            var i = u.first == UInt8(ascii: "-") ? 1 : 0
            mantissaEnd = u.count
            var exponent = 0
            if let e = u.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                mantissaEnd = e
                var k = e + 1
                var negative = false
                if k < u.count, u[k] == UInt8(ascii: "+") || u[k] == UInt8(ascii: "-") { negative = u[k] == UInt8(ascii: "-"); k += 1 }
                while k < u.count { exponent = exponent * 10 + Int(u[k] - 48); k += 1 }
                if negative { exponent = -exponent }
            }
            // Digits before the point, counted from the first significant one; or, when the
            // integer part is zero, minus the zeros between the point and the first significant digit.
            var integerDigits = 0
            var zerosAfterPoint = 0
            var seenPoint = false
            var found = false
            while i < mantissaEnd {
                let c = u[i]
                if c == UInt8(ascii: ".") {
                    seenPoint = true
                } else if !found && c == 48 {
                    if seenPoint { zerosAfterPoint += 1 }
                } else {
                    if !found { found = true; firstSignificant = i }
                    if !seenPoint { integerDigits += 1 } else { break }
                }
                i += 1
            }
            pointPosition = (integerDigits > 0 ? integerDigits : -zerosAfterPoint) + exponent
        }
    }

    /// A decimal as `0.d1d2d3… × 10^pointPosition` with significant digits only (no leading or
    /// trailing zeros); zero has no digits.
    struct Parsed {
        var negative: Bool
        var digits: [UInt8]
        var pointPosition: Int
    }

    static func compareParsed(_ a: Parsed, _ b: Parsed) -> Int {
        let sa = a.digits.isEmpty ? 0 : (a.negative ? -1 : 1)
        let sb = b.digits.isEmpty ? 0 : (b.negative ? -1 : 1)
        if sa != sb { return sa < sb ? -1 : 1 }
        if sa == 0 { return 0 }
        let m = compareParsedMagnitude(a, b)
        return sa > 0 ? m : -m
    }

    static func compareParsedMagnitude(_ a: Parsed, _ b: Parsed) -> Int {
        if a.pointPosition != b.pointPosition { return a.pointPosition < b.pointPosition ? -1 : 1 }
        for (x, y) in zip(a.digits, b.digits) where x != y { return x < y ? -1 : 1 }
        if a.digits.count != b.digits.count { return a.digits.count < b.digits.count ? -1 : 1 }
        return 0
    }

    /// Validates `text` without allocating (the per-event path); returns its sign, or nil if it
    /// does not match the grammar.
    static func scan(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { u -> Int? in
            guard !u.isEmpty, u.count <= maxLength else { return nil }
            var i = 0
            func isDigit(_ at: Int) -> Bool { at < u.count && u[at] >= 48 && u[at] <= 57 }
            let negative = u[0] == UInt8(ascii: "-")
            if negative { i = 1 }
            var nonZero = false
            guard isDigit(i) else { return nil }
            while isDigit(i) { nonZero = nonZero || u[i] != 48; i += 1 }
            if i < u.count, u[i] == UInt8(ascii: ".") {
                i += 1
                guard isDigit(i) else { return nil }
                while isDigit(i) { nonZero = nonZero || u[i] != 48; i += 1 }
            }
            if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
                i += 1
                if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
                guard isDigit(i) else { return nil }
                var exponent = 0
                while isDigit(i) {
                    exponent = exponent * 10 + Int(u[i] - 48)
                    guard exponent <= maxExponent else { return nil }
                    i += 1
                }
            }
            guard i == u.count else { return nil }
            return nonZero ? (negative ? -1 : 1) : 0
        }
    }

    /// Validates and decomposes decimal text; nil if it does not match the grammar. Allocates:
    /// kept as the simple reference the tests check `scan` and `compare` against.
    static func parse(_ text: String) -> Parsed? {
        let u = text.utf8
        guard !u.isEmpty, u.count <= maxLength else { return nil }
        var it = u.makeIterator()
        var c = it.next()
        func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 48 && $0 <= 57 } ?? false }

        var negative = false
        if c == UInt8(ascii: "-") { negative = true; c = it.next() }

        var digits: [UInt8] = []
        var integerDigits = 0   // significant digits before the point, after leading zeros
        var sawDigit = false
        while isDigit(c), let d = c {
            sawDigit = true
            if !(digits.isEmpty && d == 48) { digits.append(d - 48); integerDigits += 1 }
            c = it.next()
        }
        guard sawDigit else { return nil }

        var leadingFractionZeros = 0   // zeros right after the point while no digit is significant yet
        if c == UInt8(ascii: ".") {
            c = it.next()
            guard isDigit(c) else { return nil }
            while isDigit(c), let d = c {
                if digits.isEmpty && d == 48 { leadingFractionZeros += 1 } else { digits.append(d - 48) }
                c = it.next()
            }
        }

        var exponent = 0
        if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            c = it.next()
            var expNegative = false
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { expNegative = c == UInt8(ascii: "-"); c = it.next() }
            guard isDigit(c) else { return nil }
            while isDigit(c), let d = c {
                exponent = exponent * 10 + Int(d - 48)
                guard exponent <= maxExponent else { return nil }
                c = it.next()
            }
            if expNegative { exponent = -exponent }
        }
        guard c == nil else { return nil }

        while let last = digits.last, last == 0 { digits.removeLast() }
        let point = (integerDigits > 0 ? integerDigits : -leadingFractionZeros) + exponent
        return Parsed(negative: negative, digits: digits, pointPosition: digits.isEmpty ? 0 : point)
    }
}
