/// A `float64` printed exactly as Go's `encoding/json` prints it (`floatEncoder` in encode.go):
/// the shortest decimal that round-trips (`strconv.AppendFloat(b, f, fmt, -1, 64)`), in plain
/// notation (`'f'`) when `1e-6 ≤ |x| < 1e21` or x = 0, else in exponent notation (`'e'`) with the
/// exponent's leading zero removed for negative exponents (`1e-07` → `1e-7`; `1e+21` stays).
/// This is also ECMAScript's Number-to-String, except that `-0` stays `-0`.
///
/// The shortest round-trip digits come from Swift's own `description` (SwiftDtoa: shortest digits,
/// closest to the exact value, like Go's Ryū); only the layout is ours.
enum GoFloatFormat {
    /// Appends the Go form of the finite `d`.
    static func append(_ d: Double, to out: inout [UInt8]) {
        if d.sign == .minus { out.append(ASCII.minus) }
        if d == 0 {
            out.append(ASCII.zero)
            return
        }
        let (digits, pointPosition) = shortestDigits(d.magnitude)
        let abs = d.magnitude
        if abs < 1e-6 || abs >= 1e21 {
            appendExponentForm(digits, exponent: pointPosition - 1, to: &out)
        } else {
            appendPlainForm(digits, pointPosition: pointPosition, to: &out)
        }
    }

    /// The Go form of `d` as text (tests and tools).
    static func format(_ d: Double) -> String {
        var out: [UInt8] = []
        append(d, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The shortest round-trip significant digits of the positive finite `x` (no leading or
    /// trailing zeros) and the position of the decimal point: x = 0.d₁d₂…dₙ × 10^pointPosition.
    static func shortestDigits(_ x: Double) -> (digits: [UInt8], pointPosition: Int) {
        // `description` is "123.456", "1e-07", "1.2345678901234568e+29", "5e-324", "100.0"…
        let text = Array(x.description.utf8)
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        var beforePoint = 0
        var seenPoint = false
        var i = 0
        while i < text.count, text[i] != ASCII.lowerE, text[i] != ASCII.upperE {
            let c = text[i]
            if c == ASCII.dot {
                seenPoint = true
            } else if ASCII.isDigit(c) {
                digits.append(c)
                if !seenPoint { beforePoint += 1 }
            }
            i += 1
        }
        var exponent = 0
        if i < text.count {
            i += 1
            var negative = false
            if i < text.count, text[i] == ASCII.minus || text[i] == ASCII.plus {
                negative = text[i] == ASCII.minus
                i += 1
            }
            while i < text.count, ASCII.isDigit(text[i]) {
                exponent = exponent * 10 + Int(text[i] - ASCII.zero)
                i += 1
            }
            if negative { exponent = -exponent }
        }
        var pointPosition = beforePoint + exponent
        // Normalize: drop leading zeros (each moves the point left) and trailing zeros.
        var lead = 0
        while lead < digits.count - 1, digits[lead] == ASCII.zero { lead += 1 }
        pointPosition -= lead
        digits.removeFirst(lead)
        while digits.count > 1, digits.last == ASCII.zero { digits.removeLast() }
        return (digits, pointPosition)
    }

    /// `d[.ddd]e±x`: Go's `%e` has at least two exponent digits; the JSON encoder strips the leading
    /// zero of a negative two-digit exponent, and positive exponents here are always ≥ 21.
    private static func appendExponentForm(_ digits: [UInt8], exponent: Int, to out: inout [UInt8]) {
        out.append(digits[0])
        if digits.count > 1 {
            out.append(ASCII.dot)
            out.append(contentsOf: digits[1...])
        }
        out.append(ASCII.lowerE)
        out.append(exponent < 0 ? ASCII.minus : ASCII.plus)
        let magnitude = exponent.magnitude
        if exponent >= 0 && magnitude < 10 { out.append(ASCII.zero) }
        out.append(contentsOf: String(magnitude).utf8)
    }

    /// `ddd.ddd`, `0.000ddd` or `ddd000`, with no fraction when the value is integral.
    private static func appendPlainForm(_ digits: [UInt8], pointPosition: Int, to out: inout [UInt8]) {
        if pointPosition <= 0 {
            out.append(ASCII.zero)
            out.append(ASCII.dot)
            for _ in 0 ..< -pointPosition { out.append(ASCII.zero) }
            out.append(contentsOf: digits)
        } else if pointPosition >= digits.count {
            out.append(contentsOf: digits)
            for _ in 0 ..< (pointPosition - digits.count) { out.append(ASCII.zero) }
        } else {
            out.append(contentsOf: digits[0..<pointPosition])
            out.append(ASCII.dot)
            out.append(contentsOf: digits[pointPosition...])
        }
    }
}
