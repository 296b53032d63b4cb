/// Postgres' binary `numeric` representation, built from a decimal string.
///
/// Wire format (numeric_send): int16 ndigits, int16 weight, uint16 sign, int16 dscale, then
/// ndigits int16 base-10000 digits, most significant first. The value is
/// Σ digit[i] · 10000^(weight − i); dscale is the number of decimal digits after the point that
/// the text form shows (so `1.50` keeps its trailing zero, as Postgres' own parser does).
struct PGNumeric: Equatable {
    var weight: Int16
    var sign: UInt16
    var dscale: Int16
    var digits: [Int16]

    static let positive: UInt16 = 0x0000
    static let negative: UInt16 = 0x4000
    static let nan: UInt16 = 0xC000
    static let positiveInfinity: UInt16 = 0xD000
    static let negativeInfinity: UInt16 = 0xF000

    /// Parses `[+-]digits[.digits][(e|E)[+-]digits]`, `NaN`, `Infinity`, `-Infinity` (as Postgres
    /// spells them, case-insensitive). Anything else (empty, spaces, hex, several points) is refused.
    init(parsing text: String) throws(PGError) {
        func bad(_ why: String) -> PGError {
            PGError(clientReason: "pg_bad_numeric", kind: .data, message: "invalid numeric '\(text.prefix(80))': \(why)")
        }
        var bytes = Array(text.utf8)[...]
        let lowered = String(decoding: bytes.map { $0 | 0x20 }, as: UTF8.self)
        switch lowered {
        case "nan": self.init(special: PGNumeric.nan); return
        case "infinity", "+infinity", "inf", "+inf": self.init(special: PGNumeric.positiveInfinity); return
        case "-infinity", "-inf": self.init(special: PGNumeric.negativeInfinity); return
        default: break
        }
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var integerDigits: [UInt8] = []
        var fractionDigits: [UInt8] = []
        var seenPoint = false
        var exponent = 0
        while let byte = bytes.first {
            if byte >= 0x30 && byte <= 0x39 {
                if seenPoint { fractionDigits.append(byte - 0x30) } else { integerDigits.append(byte - 0x30) }
            } else if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                exponent = try PGNumeric.parseExponent(bytes.dropFirst(), bad)
                bytes = bytes[bytes.endIndex...]
                break
            } else {
                throw bad("unexpected character")
            }
            bytes = bytes.dropFirst()
        }
        guard !integerDigits.isEmpty || !fractionDigits.isEmpty else { throw bad("no digits") }

        // The display scale Postgres would keep: digits after the point, shifted by the exponent.
        let scale = max(0, fractionDigits.count - exponent)
        guard scale <= 0x3FFF else { throw bad("scale too large") }
        var all = integerDigits + fractionDigits
        // Position of the decimal point within `all` (may lie outside it).
        var point = integerDigits.count + exponent
        let leadingZeros = all.prefix { $0 == 0 }.count
        all.removeFirst(leadingZeros)
        point -= leadingZeros
        while all.last == 0 { all.removeLast() }
        if all.isEmpty {
            self.init(weight: 0, sign: PGNumeric.positive, dscale: Int16(scale), digits: [])
            return
        }
        // Align on the decimal point in groups of four: pad left so the point falls on a group
        // boundary, pad right to complete the last group.
        let leftPad = ((4 - point % 4) % 4 + 4) % 4
        let groupsBeforePoint = (point + leftPad) / 4
        var padded = [UInt8](repeating: 0, count: leftPad) + all
        padded += [UInt8](repeating: 0, count: (4 - padded.count % 4) % 4)
        var groups: [Int16] = []
        groups.reserveCapacity(padded.count / 4)
        var index = 0
        while index < padded.count {
            let group = Int16(padded[index]) * 1000 + Int16(padded[index + 1]) * 100
                + Int16(padded[index + 2]) * 10 + Int16(padded[index + 3])
            groups.append(group)
            index += 4
        }
        while groups.last == 0 { groups.removeLast() }
        let weight = groupsBeforePoint - 1
        guard weight >= Int(Int16.min), weight <= Int(Int16.max), groups.count <= Int(Int16.max) else {
            throw bad("out of range")
        }
        self.init(weight: Int16(weight), sign: negative ? PGNumeric.negative : PGNumeric.positive,
                  dscale: Int16(scale), digits: groups)
    }

    init(weight: Int16, sign: UInt16, dscale: Int16, digits: [Int16]) {
        self.weight = weight
        self.sign = sign
        self.dscale = dscale
        self.digits = digits
    }

    private init(special sign: UInt16) {
        self.init(weight: 0, sign: sign, dscale: 0, digits: [])
    }

    private static func parseExponent(_ bytes: ArraySlice<UInt8>, _ bad: (String) -> PGError) throws(PGError) -> Int {
        var rest = bytes
        var negative = false
        if let first = rest.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty else { throw bad("empty exponent") }
        var value = 0
        for byte in rest {
            guard byte >= 0x30 && byte <= 0x39 else { throw bad("bad exponent") }
            value = value * 10 + Int(byte - 0x30)
            // Postgres caps the exponent near ±1000 (NUMERIC_MAX_DISPLAY_SCALE); so do we.
            guard value <= 100_000 else { throw bad("exponent out of range") }
        }
        return negative ? -value : value
    }

    /// The binary wire bytes (without the 4-byte field length).
    var wireBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + digits.count * 2)
        func put(_ value: UInt16) { out.append(UInt8(value >> 8)); out.append(UInt8(value & 0xFF)) }
        put(UInt16(digits.count))
        put(UInt16(bitPattern: weight))
        put(sign)
        put(UInt16(bitPattern: dscale))
        for digit in digits { put(UInt16(bitPattern: digit)) }
        return out
    }
}
