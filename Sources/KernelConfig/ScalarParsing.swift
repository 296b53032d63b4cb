/// Parsing of scalar texts into integers and byte sizes; no YAML here, so it is easy to test.
enum ScalarParsing {
    /// Upper bound for byte sizes: large enough for any disk, far from overflow when added up.
    static let maxSize = 1 << 52

    /// A decimal integer with an optional sign; nil on anything else (floats, hex, overflow).
    static func integer(_ text: String) -> Int? {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty, trimmed.count <= 24 else { return nil }
        var digits = Substring(trimmed)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(trimmed)
    }

    /// Units accepted after a size, lowercased. Decimal (KB = 1000) and binary (KiB = 1024).
    static let sizeUnits: [(String, Int)] = [
        ("b", 1),
        ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("tb", 1_000_000_000_000),
        ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40),
    ]

    /// A byte size: `1048576`, `512MiB`, `10 GiB`, `1.5GB`-style fractions are refused.
    /// Nil when malformed, negative or larger than `maxSize`.
    static func size(_ text: String) -> Int? {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty, trimmed.count <= 32 else { return nil }
        let numberPart = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !numberPart.isEmpty, let number = Int(numberPart) else { return nil }
        let unitText = trimmed.dropFirst(numberPart.count).trimmingASCIIWhitespace().lowercased()
        let multiplier: Int
        if unitText.isEmpty {
            multiplier = 1
        } else if let unit = sizeUnits.first(where: { $0.0 == unitText }) {
            multiplier = unit.1
        } else {
            return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, product <= maxSize else { return nil }
        return product
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, CR and LF.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
