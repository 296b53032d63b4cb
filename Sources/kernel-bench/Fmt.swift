/// Number and column formatting for the printed tables.
enum Fmt {
    /// `v` with `digits` decimals (half up), e.g. fixed(2.345, 2) = "2.35".
    static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let negative = v < 0
        let t = Int((abs(v) * scale).rounded())
        let whole = t / Int(scale)
        var text = String(whole)
        if digits > 0 {
            let frac = String(t % Int(scale))
            text += "." + String(repeating: "0", count: digits - frac.count) + frac
        }
        return negative ? "-" + text : text
    }

    /// Thousands separators: 1234567 → "1,234,567".
    static func grouped(_ v: Int) -> String {
        let digits = Array(String(abs(v)))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return v < 0 ? "-" + out : out
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
