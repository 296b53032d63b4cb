import Yams

/// How a YAML value is shown inside an error message: short, printable, and never a secret.
enum ValueDisplay {
    /// At most this many characters of a scalar are echoed back.
    static let maxEcho = 40

    /// `"abc"` for a scalar (escaped, truncated), `a mapping` / `a sequence` otherwise.
    /// With `secret`, scalars are described without their text.
    static func describe(_ node: Node, secret: Bool = false) -> String {
        switch node {
        case .scalar(let scalar):
            return secret ? "a hidden value" : quote(scalar.string)
        case .mapping:
            return "a mapping"
        case .sequence:
            return "a sequence"
        case .alias:
            return "an alias"
        }
    }

    /// Double-quoted, control characters escaped, truncated to `limit` characters.
    static func quote(_ text: String, limit: Int = maxEcho) -> String {
        var out = "\""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            count += 1
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
