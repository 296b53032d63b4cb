import KernelJSON

/// `canonical`: `JSONCanonical.canonicalize` and `JSONParser`.
///
/// Properties, for every input x with c = canonical(x):
/// - idempotence: canonical(c) == c;
/// - x invalid JSON (even at Go's 10 000 levels) ⇒ c == x;
/// - x parses (64 levels) and holds a number that overflows a double ⇒ c == x (Go refuses it);
/// - x parses otherwise ⇒ c is in canonical form (no whitespace, allowed escapes only, valid
///   UTF-8) and means the same as x: objects deduplicated last-wins and sorted by key bytes, arrays
///   kept, strings equal, every number printed as `GoNumberReference` prints the double of x's.
final class CanonicalTarget: FuzzTarget {
    let name = "canonical"
    let seeds: [[UInt8]]
    private let mutator = JSONMutator(maxLength: 64 * 1024)

    init(corpusDir: String, vectorsFile: String) throws(FuzzSetupError) {
        var seeds = Files.corpus(corpusDir, suffixes: [".json"])
        if let text = Files.read(vectorsFile), let doc = try? JSONParser.parse(text, maxDepth: 8),
           let vectors = doc["vectors"]?.arrayValue {
            for vector in vectors {
                if let input = vector["input"]?.stringValue {
                    seeds.append(Array(input.utf8))
                } else if let hex = vector["input_hex"]?.stringValue, let bytes = Self.unhex(hex) {
                    seeds.append(bytes)
                }
            }
        }
        guard !seeds.isEmpty else {
            throw FuzzSetupError("canonical: no seeds in \(corpusDir) or \(vectorsFile) (run from the repository root)")
        }
        self.seeds = seeds
    }

    static func unhex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let byte = UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }

    func mutate(_ base: [UInt8], other: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        mutator.mutate(base, other: other, rng: &rng)
    }

    func run(_ input: [UInt8]) -> Verdict {
        let c = JSONCanonical.canonicalize(input)
        let cc = JSONCanonical.canonicalize(c)
        guard cc == c else {
            return .fail("idempotence: canonical(canonical(x)) != canonical(x): \(show(c)) → \(show(cc))")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(input, maxDepth: 64)
        } catch {
            // Deeper than 64 or invalid: only the "invalid ⇒ unchanged" rule is checkable without a tree.
            let invalid = input.withUnsafeBytes { JSONScanner.validate($0, maxDepth: 10_001) } != nil
            if invalid {
                guard c == input else { return .fail("invalid-unchanged: invalid JSON (\(error)) was changed to \(show(c))") }
                return .pass(outcome: "invalid:\(error.reason.rawValue)")
            }
            if c != input, let problem = CanonicalForm.problem(in: c) {
                return .fail("canonical-form: deep input's output: \(problem)")
            }
            return .pass(outcome: "deep")
        }
        if Self.hasOverflow(parsed) {
            guard c == input else { return .fail("overflow-unchanged: a number overflowing float64 must leave the input unchanged, got \(show(c))") }
            return .pass(outcome: "overflow")
        }
        if let problem = CanonicalForm.problem(in: c) { return .fail("canonical-form: \(problem) in \(show(c))") }
        let reparsed: JSONValue
        do {
            reparsed = try JSONParser.parse(c, maxDepth: 64)
        } catch {
            return .fail("output-valid: canonical output does not parse (\(error)): \(show(c))")
        }
        if let problem = Self.compare(parsed, reparsed, path: "$") {
            return .fail("meaning: \(problem)")
        }
        return .pass(outcome: "valid:\(Self.shape(parsed))")
    }

    /// A coarse label of the document's shape, for corpus diversity.
    static func shape(_ value: JSONValue) -> String {
        switch value {
        case .null: return "n"
        case .bool: return "b"
        case .number(let text): return text.contains("e") || text.contains("E") ? "e" : (text.contains(".") ? "f" : "i")
        case .string(let s): return s.unicodeScalars.contains { $0.value < 0x20 || $0.value > 0x7E } ? "S" : "s"
        case .array(let items): return "[" + Set(items.prefix(8).map(shape)).sorted().joined() + "]"
        case .object(let object): return "{" + Set(object.members.prefix(8).map { shape($0.value) }).sorted().joined() + "}"
        }
    }

    static func hasOverflow(_ value: JSONValue) -> Bool {
        switch value {
        case .number(let text): return !(Double(text)?.isFinite ?? false)
        case .array(let items): return items.contains(where: hasOverflow)
        case .object(let object): return object.members.contains { hasOverflow($0.value) }
        default: return false
        }
    }

    /// nil when `output` (the reparsed canonical form) means what `input` means (docs/protocol.md, "Canonical JSON").
    static func compare(_ input: JSONValue, _ output: JSONValue, path: String) -> String? {
        switch (input, output) {
        case (.null, .null): return nil
        case (.bool(let a), .bool(let b)): return a == b ? nil : "\(path): boolean changed"
        case (.number(let a), .number(let b)):
            guard let d = Double(a) else { return "\(path): reference cannot read number \(a)" }
            let want = GoNumberReference.format(d)
            return b == want ? nil : "\(path): number \(a) printed as \(b), Go prints \(want)"
        case (.string(let a), .string(let b)):
            return Array(a.utf8) == Array(b.utf8) ? nil : "\(path): string changed: \(quote(a)) → \(quote(b))"
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return "\(path): array of \(a.count) became \(b.count) items" }
            for i in a.indices {
                if let problem = compare(a[i], b[i], path: "\(path)[\(i)]") { return problem }
            }
            return nil
        case (.object(let a), .object(let b)):
            // Last duplicate wins, then sorted by UTF-8 bytes.
            var last: [[UInt8]: JSONValue] = [:]
            for member in a.members { last[Array(member.key.utf8)] = member.value }
            let keys = last.keys.sorted { $0.lexicographicallyPrecedes($1) }
            let outKeys = b.members.map { Array($0.key.utf8) }
            guard outKeys == keys else {
                return "\(path): keys \(b.members.map { quote($0.key) }) where \(keys.map { quote(String(decoding: $0, as: UTF8.self)) }) "
                    + "(deduplicated, byte-sorted) were expected"
            }
            for (key, value) in zip(keys, b.members.map(\.value)) {
                if let problem = compare(last[key]!, value, path: "\(path).\(String(decoding: key, as: UTF8.self))") {
                    return problem
                }
            }
            return nil
        default:
            return "\(path): \(shape(input)) became \(shape(output))"
        }
    }
}

/// Syntactic checks of canonical output (docs/protocol.md, "Canonical JSON", rules 2 and 4), independent of KernelJSON.
enum CanonicalForm {
    static func problem(in text: [UInt8]) -> String? {
        guard String(validating: text, as: UTF8.self) != nil else { return "output is not valid UTF-8" }
        var i = 0
        var inString = false
        let hex = Array("0123456789abcdef".utf8)
        while i < text.count {
            let c = text[i]
            if inString {
                switch c {
                case 0x22: inString = false
                case 0x5C:
                    guard i + 1 < text.count else { return "dangling backslash" }
                    let e = text[i + 1]
                    switch e {
                    case 0x22, 0x5C, 0x6E, 0x72, 0x74, 0x62, 0x66: i += 1
                    case 0x75:
                        guard i + 5 < text.count else { return "short \\u escape" }
                        let digits = Array(text[(i + 2)...(i + 5)])
                        guard digits.allSatisfy({ hex.contains($0) }) else { return "\\u escape not lower-case hex" }
                        let v = Int(String(decoding: digits, as: UTF8.self), radix: 16)!
                        let named = [0x08, 0x09, 0x0A, 0x0C, 0x0D]
                        guard (v < 0x20 && !named.contains(v)) || v == 0x3C || v == 0x3E || v == 0x26
                                || v == 0x2028 || v == 0x2029 else {
                            return "needless escape \\u\(String(decoding: digits, as: UTF8.self))"
                        }
                        i += 5
                    default: return "escape \\\(Character(Unicode.Scalar(e))) is not canonical"
                    }
                case 0x00..<0x20: return "raw control byte 0x\(String(c, radix: 16)) in a string"
                case 0x3C, 0x3E, 0x26: return "raw \(Character(Unicode.Scalar(c))) in a string (must be \\u00xx)"
                case 0xE2:
                    if i + 2 < text.count, text[i + 1] == 0x80, text[i + 2] == 0xA8 || text[i + 2] == 0xA9 {
                        return "raw U+2028/U+2029 in a string"
                    }
                default: break
                }
            } else {
                switch c {
                case 0x22: inString = true
                case 0x20, 0x09, 0x0A, 0x0D: return "whitespace outside strings at byte \(i)"
                default: break
                }
            }
            i += 1
        }
        return inString ? "unterminated string" : nil
    }
}

/// At most 120 bytes of `bytes`, for messages.
func show(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.prefix(120), as: UTF8.self)
    return quote(text) + (bytes.count > 120 ? "…(\(bytes.count) bytes)" : "")
}

func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars.prefix(120) {
        if scalar.value < 0x20 || scalar.value == 0x7F { out += "\\u{\(String(scalar.value, radix: 16))}" } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
