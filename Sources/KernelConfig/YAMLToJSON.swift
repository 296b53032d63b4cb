import KernelJSON
import Yams

/// Turns a YAML subtree (a plugin's `plugins.config.<name>` mapping) into JSON text for the plugin's `init`.
///
/// Plain scalars are typed as YAML 1.2's core schema would: `null`/`~`/empty → null, `true`/`false`
/// → booleans, decimal numbers → numbers; everything else, and every quoted or `!!str` scalar,
/// is a string. Work is bounded by `YAMLPrecheck`, which has already refused anchors, aliases and
/// deep nesting; `maxDepth` here is a second guard for the recursion.
enum YAMLToJSON {
    static let maxDepth = 64

    enum Failure: Error, Equatable {
        case tooDeep
        case nonStringKey(String)
    }

    /// JSON text for `node`, which must be a mapping (the caller checks).
    static func json(_ node: Node) throws(Failure) -> String {
        var out = ""
        try write(node, into: &out, depth: 0)
        return out
    }

    private static func write(_ node: Node, into out: inout String, depth: Int) throws(Failure) {
        guard depth < maxDepth else { throw .tooDeep }
        switch node {
        case .scalar(let scalar):
            try writeScalar(scalar, into: &out)
        case .sequence(let sequence):
            out += "["
            for (index, item) in sequence.enumerated() {
                if index > 0 { out += "," }
                try write(item, into: &out, depth: depth + 1)
            }
            out += "]"
        case .mapping(let mapping):
            out += "{"
            for (index, pair) in mapping.enumerated() {
                guard case .scalar(let key) = pair.key else {
                    throw .nonStringKey(ValueDisplay.describe(pair.key))
                }
                if index > 0 { out += "," }
                writeString(key.string, into: &out)
                out += ":"
                try write(pair.value, into: &out, depth: depth + 1)
            }
            out += "}"
        case .alias:
            // `compose` resolves aliases; a bare alias node cannot reach here. Refuse rather than guess.
            throw .nonStringKey("an alias")
        }
    }

    private static func writeScalar(_ scalar: Node.Scalar, into out: inout String) throws(Failure) {
        let text = scalar.string
        let plain = (scalar.style == .plain || scalar.style == .any) && scalar.tag.rawValue != Tag.Name.str.rawValue
        guard plain else {
            writeString(text, into: &out)
            return
        }
        switch text {
        case "", "~", "null", "Null", "NULL":
            out += "null"
        case "true", "True", "TRUE":
            out += "true"
        case "false", "False", "FALSE":
            out += "false"
        default:
            if let number = jsonNumber(text) {
                out += number
            } else {
                writeString(text, into: &out)
            }
        }
    }

    /// The JSON spelling of a YAML decimal number, or nil when `text` is not one.
    /// Accepts JSON's grammar plus a leading `+`, which JSON lacks.
    static func jsonNumber(_ text: String) -> String? {
        var chars = Substring(text)
        if chars.first == "+" { chars = chars.dropFirst() }
        let candidate = String(chars)
        return isJSONNumber(candidate) ? candidate : nil
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, KernelJSON's grammar.
    static func isJSONNumber(_ text: String) -> Bool { JSONNumber.isValid(text) }

    /// A JSON string literal, escaped by KernelJSON's writer (the kernel's one escaper).
    static func writeString(_ text: String, into out: inout String) {
        var bytes: [UInt8] = []
        JSONWriter.appendString(text, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }
}
