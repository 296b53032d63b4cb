import Yams

/// Reads one YAML mapping of the config: refuses keys it does not know, and hands out typed values
/// with their defaults. Every problem goes to the shared `IssueLog` under the value's full path.
struct MappingReader {
    let path: String
    let log: IssueLog
    private var entries: [String: Node] = [:]

    /// `node` nil or null reads as an empty mapping (every key absent).
    init(_ node: Node?, path: String, known: [String], log: IssueLog) {
        self.path = path
        self.log = log
        guard let node, !MappingReader.isNull(node) else { return }
        guard case .mapping(let mapping) = node else {
            log.add(path, "expected a mapping, got \(ValueDisplay.describe(node))", .wrongType)
            return
        }
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                log.add(path, "keys must be plain strings, got \(ValueDisplay.describe(keyNode))", .wrongType)
                continue
            }
            let key = keyScalar.string
            guard known.contains(key) else {
                // An empty key is quoted too, so the message names it ("" rather than nothing).
                let shown = !key.isEmpty && key.count <= ValueDisplay.maxEcho && key.allSatisfy({ $0.isASCII && !$0.isWhitespace })
                    ? key : ValueDisplay.quote(key)
                log.add(IssueLog.join(path, shown),
                        "unknown key" + Suggestion.hint(for: key, in: known), .unknownKey)
                continue
            }
            entries[key] = value
        }
    }

    /// Plain `~`, `null`, or nothing at all: YAML's way of writing "no value".
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        switch scalar.string {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    func child(_ key: String) -> String { IssueLog.join(path, key) }

    /// The value under `key`; nil when absent or null.
    func node(_ key: String) -> Node? {
        guard let node = entries[key], !MappingReader.isNull(node) else { return nil }
        return node
    }

    /// Whether `key` holds a mapping or sequence (already reported by a string getter).
    func holdsCollection(_ key: String) -> Bool {
        guard let node = node(key) else { return false }
        if case .scalar = node { return false }
        return true
    }

    /// A nested section.
    func section(_ key: String, known: [String]) -> MappingReader {
        MappingReader(entries[key], path: child(key), known: known, log: log)
    }

    // MARK: Strings

    /// The scalar text under `key`, nil when absent; a non-scalar is reported.
    /// An empty string is reported unless `allowEmpty` (then it is returned as "").
    func optionalString(_ key: String, secret: Bool = false, allowEmpty: Bool = false) -> String? {
        guard let node = node(key) else { return nil }
        guard case .scalar(let scalar) = node else {
            log.add(child(key), "expected a string, got \(ValueDisplay.describe(node, secret: secret))", .wrongType)
            return nil
        }
        if scalar.string.isEmpty && !allowEmpty {
            log.add(child(key), "must not be empty (remove the key to use the default)", .invalidValue)
            return nil
        }
        return scalar.string
    }

    func string(_ key: String, default value: String) -> String {
        optionalString(key) ?? value
    }

    /// A string that must be present; reports it missing otherwise (returns "" then).
    func requiredString(_ key: String, secret: Bool = false) -> String {
        guard let raw = entries[key] else {
            log.add(child(key), "required", .missingKey)
            return ""
        }
        guard !MappingReader.isNull(raw) else {
            log.add(child(key), "required, got an empty value", .missingKey)
            return ""
        }
        guard case .scalar(let scalar) = raw else {
            log.add(child(key), "expected a string, got \(ValueDisplay.describe(raw, secret: secret))", .wrongType)
            return ""
        }
        guard !scalar.string.isEmpty else {
            log.add(child(key), "required, got an empty string", .missingKey)
            return ""
        }
        return scalar.string
    }

    /// An optional string where `""` also means "not set" (as in the earlier config format).
    func unsetIfEmpty(_ key: String, secret: Bool = false) -> String? {
        guard let value = optionalString(key, secret: secret, allowEmpty: true), !value.isEmpty else { return nil }
        return value
    }

    /// One of a fixed set of words.
    func choice(_ key: String, default value: String, allowed: [String]) -> String {
        guard let text = optionalString(key) else { return value }
        guard allowed.contains(text) else {
            log.add(child(key), "expected one of \(allowed.joined(separator: ", ")), got \(ValueDisplay.quote(text))"
                + Suggestion.hint(for: text, in: allowed), .invalidValue)
            return value
        }
        return text
    }

    // MARK: Numbers

    /// Default upper bound: keeps millisecond and count values far from overflow downstream.
    static let defaultMax = Int(Int32.max)

    func optionalInt(_ key: String, min: Int, max: Int = MappingReader.defaultMax) -> Int? {
        guard let node = node(key) else { return nil }
        let expected = MappingReader.describeRange(min: min, max: max)
        guard case .scalar(let scalar) = node, let value = ScalarParsing.integer(scalar.string),
              value >= min, value <= max
        else {
            log.add(child(key), "expected \(expected), got \(ValueDisplay.describe(node))", .invalidValue)
            return nil
        }
        return value
    }

    func int(_ key: String, default value: Int, min: Int, max: Int = MappingReader.defaultMax) -> Int {
        optionalInt(key, min: min, max: max) ?? value
    }

    static func describeRange(min: Int, max: Int) -> String {
        let base: String
        switch min {
        case 0: base = "a non-negative integer"
        case 1: base = "a positive integer"
        default: base = "an integer of at least \(min)"
        }
        return max == defaultMax ? base : base + " no larger than \(max)"
    }

    /// A byte size: an integer, or a string with a unit (`512MiB`, `10GiB`, `64 MB`).
    func size(_ key: String, default value: Int, min: Int) -> Int {
        guard let node = node(key) else { return value }
        guard case .scalar(let scalar) = node, let size = ScalarParsing.size(scalar.string), size >= min else {
            log.add(child(key), "expected a size in bytes of at least \(min) (an integer, or with a unit: "
                + "KB, MB, GB, TB, KiB, MiB, GiB, TiB), got \(ValueDisplay.describe(node))", .invalidValue)
            return value
        }
        return size
    }

    // MARK: Booleans

    func bool(_ key: String, default value: Bool) -> Bool {
        guard let node = node(key) else { return value }
        if case .scalar(let scalar) = node {
            switch scalar.string.lowercased() {
            case "true": return true
            case "false": return false
            default: break
            }
        }
        log.add(child(key), "expected true or false, got \(ValueDisplay.describe(node))", .invalidValue)
        return value
    }

    // MARK: Collections

    /// The items of the sequence under `key`, each with its path for messages (`key[2]`); absent
    /// means none. Anything but a sequence is reported as not "a list of `items`".
    private func listItems(_ key: String, of items: String) -> [(path: String, node: Node)] {
        guard let node = node(key) else { return [] }
        guard case .sequence(let sequence) = node else {
            log.add(child(key), "expected a list of \(items), got \(ValueDisplay.describe(node))", .wrongType)
            return []
        }
        return sequence.enumerated().map { ("\(child(key))[\($0.offset)]", $0.element) }
    }

    /// A sequence of non-empty strings; absent means empty.
    func stringList(_ key: String) -> [String] {
        var result: [String] = []
        for (itemPath, item) in listItems(key, of: "strings") {
            guard case .scalar(let scalar) = item, !MappingReader.isNull(item), !scalar.string.isEmpty else {
                log.add(itemPath, "expected a non-empty string, got \(ValueDisplay.describe(item))", .wrongType)
                continue
            }
            result.append(scalar.string)
        }
        return result
    }

    /// A sequence of distinct integers in `min...max`; absent means empty.
    func intList(_ key: String, min: Int, max: Int) -> [Int] {
        var result: [Int] = []
        for (itemPath, item) in listItems(key, of: "integers") {
            guard case .scalar(let scalar) = item, let value = ScalarParsing.integer(scalar.string),
                  value >= min, value <= max
            else {
                log.add(itemPath, "expected \(MappingReader.describeRange(min: min, max: max)), got \(ValueDisplay.describe(item))",
                        .invalidValue)
                continue
            }
            if result.contains(value) {
                log.add(itemPath, "\(value) is listed twice", .conflict)
                continue
            }
            result.append(value)
        }
        return result
    }

    /// A mapping of names to non-empty strings; absent means empty. `validate` returns a message for a bad value.
    func stringMap(_ key: String, validate: (String) -> String? = { _ in nil }) -> [String: String] {
        guard let node = node(key) else { return [:] }
        guard case .mapping(let mapping) = node else {
            log.add(child(key), "expected a mapping of names to strings, got \(ValueDisplay.describe(node))", .wrongType)
            return [:]
        }
        var result: [String: String] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode, !keyScalar.string.isEmpty else {
                log.add(child(key), "keys must be non-empty strings, got \(ValueDisplay.describe(keyNode))", .wrongType)
                continue
            }
            let entryPath = IssueLog.join(child(key), keyScalar.string)
            guard case .scalar(let scalar) = value, !MappingReader.isNull(value), !scalar.string.isEmpty else {
                log.add(entryPath, "expected a non-empty string, got \(ValueDisplay.describe(value))", .wrongType)
                continue
            }
            if let problem = validate(scalar.string) {
                log.add(entryPath, problem, .invalidValue)
                continue
            }
            result[keyScalar.string] = scalar.string
        }
        return result
    }
}
