/// An independent reference for the number output of docs/protocol.md, "Canonical JSON" (Go's `encoding/json` float64 form), built
/// from Swift's shortest round-trip `description`: plain notation when `1e-6 ≤ |x| < 1e21` or
/// x = 0, else `d[.ddd]e±N` without exponent zero padding; `-0` stays `-0`.
enum GoNumberReference {
    static func format(_ d: Double) -> String {
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        let sign = d.sign == .minus ? "-" : ""
        var (digits, point) = shortest(d.magnitude)
        let magnitude = d.magnitude
        if magnitude < 1e-6 || magnitude >= 1e21 {
            let first = digits.removeFirst()
            let exponent = point - 1
            return sign + String(first) + (digits.isEmpty ? "" : "." + String(digits))
                + "e" + (exponent < 0 ? "-" : "+") + String(abs(exponent))
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
        if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) }
        return sign + String(digits[..<point]) + "." + String(digits[point...])
    }

    /// Significant digits (no leading/trailing zeros) and the decimal point's position within them.
    static func shortest(_ x: Double) -> (digits: [Character], point: Int) {
        let text = "\(x)"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...])!
        }
        var digits: [Character] = []
        var point = 0
        var seenPoint = false
        for c in mantissa {
            if c == "." {
                seenPoint = true
                continue
            }
            digits.append(c)
            if !seenPoint { point += 1 }
        }
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        return (digits, point + exponent)
    }
}
