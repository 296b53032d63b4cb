/// A small parser of the Prometheus text exposition format (0.0.4), strict enough to catch a
/// malformed `/metrics`: every sample line must be `name{labels} value`, every family must have
/// one `# TYPE`, every sample must belong to a typed family.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var types: [String: String] = [:]
    var help: [String: String] = [:]
    var samples: [Sample] = []

    struct ParseError: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "line \(line): \(message)" }
    }

    init(_ text: String) throws {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = String(raw)
            if line.isEmpty { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, Self.isMetricName(String(parts[0])),
                      ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[1])) else {
                    throw ParseError(line: number, message: "bad TYPE line \(line)")
                }
                guard types[String(parts[0])] == nil else { throw ParseError(line: number, message: "duplicate TYPE for \(parts[0])") }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                let name = String(rest.prefix { $0 != " " })
                guard Self.isMetricName(name) else { throw ParseError(line: number, message: "bad HELP line") }
                help[name] = String(rest.dropFirst(name.count + 1))
            } else if line.hasPrefix("#") {
                continue
            } else {
                samples.append(try Self.sample(line, number: number))
            }
        }
        for sample in samples where family(of: sample.name) == nil {
            throw ParseError(line: 0, message: "sample \(sample.name) has no TYPE")
        }
    }

    /// The typed family a sample belongs to (`x_bucket`/`x_sum`/`x_count` → histogram `x`).
    func family(of name: String) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    /// The value of the sample `name` with exactly `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func isMetricName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first == ":" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0 == ":" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    static func sample(_ line: String, number: Int) throws -> Sample {
        var chars = Array(line.unicodeScalars)[...]
        var name = ""
        while let c = chars.first, c != "{", c != " " { name.unicodeScalars.append(c); chars = chars.dropFirst() }
        guard isMetricName(name) else { throw ParseError(line: number, message: "bad metric name in \(line)") }
        var labels: [String: String] = [:]
        if chars.first == "{" {
            chars = chars.dropFirst()
            while chars.first != "}" {
                var key = ""
                while let c = chars.first, c != "=" { key.unicodeScalars.append(c); chars = chars.dropFirst() }
                guard chars.first == "=", chars.dropFirst().first == "\"" else { throw ParseError(line: number, message: "bad label in \(line)") }
                chars = chars.dropFirst(2)
                var value = ""
                while let c = chars.first, c != "\"" {
                    if c == "\\" {
                        chars = chars.dropFirst()
                        guard let e = chars.first else { throw ParseError(line: number, message: "bad escape") }
                        value.unicodeScalars.append(e == "n" ? "\n" : e)
                    } else {
                        value.unicodeScalars.append(c)
                    }
                    chars = chars.dropFirst()
                }
                guard chars.first == "\"" else { throw ParseError(line: number, message: "unterminated label value in \(line)") }
                chars = chars.dropFirst()
                guard isMetricName(key), labels[key] == nil else { throw ParseError(line: number, message: "bad label name \(key)") }
                labels[key] = value
                if chars.first == "," { chars = chars.dropFirst() }
                guard !chars.isEmpty else { throw ParseError(line: number, message: "unterminated labels in \(line)") }
            }
            chars = chars.dropFirst()
        }
        guard chars.first == " " else { throw ParseError(line: number, message: "missing value in \(line)") }
        let rest = String(String.UnicodeScalarView(chars.dropFirst())).split(separator: " ")
        guard (1...2).contains(rest.count) else { throw ParseError(line: number, message: "bad value in \(line)") }
        let text = String(rest[0])
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let v = Double(text) else { throw ParseError(line: number, message: "bad value \(text)") }
            value = v
        }
        return Sample(name: name, labels: labels, value: value)
    }
}
