import KernelJSON

/// Structure-aware JSON mutations: the input is parsed into a tree whose scalars and keys are raw
/// bytes, a node is changed (hostile scalars, duplicate or escaped keys, deep nesting, …), and the
/// tree is written back, sometimes with odd whitespace. Unparseable input falls back to bytes.
struct JSONMutator {
    let bytes: ByteMutator

    /// A JSON tree whose leaves are raw text, so mutations can place anything, valid or not.
    indirect enum Node {
        case raw([UInt8])
        case array([Node])
        case object([(key: [UInt8], value: Node)])
    }

    static let numbers = tokens([
        "0", "-0", "1", "-1", "0.1", "1e400", "-1e400", "1e-400", "4.9e-324", "5e-324", "2.2250738585072011e-308",
        "1.7976931348623157e308", "1.7976931348623159e308", "9007199254740993", "99999999999999999999999",
        "123456789012345678901234567890e-10", "1E+2", "1e-7", "1.5e-7", "1e21", "1e20", "123.456e7",
        "-9223372036854775808", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "1.0", "100", "0.000001", "0.0000001", "1e-6",
        "12345678901234567890.123", "-0.0", "0e0", "0E-0", "1e+0", "1e00000000000000000000001",
        String(repeating: "9", count: 400), "0." + String(repeating: "0", count: 400) + "1",
        "01", "1.", "-", "+1", ".5", "1e", "NaN", "Infinity", "-Infinity", "0x10", "1_000",
    ])
    static let strings: [[UInt8]] = tokens([
        "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"<>&\"",
        "\"\\u2028\\u2029\"", "\"\u{2028}\u{2029}\"", "\"\\/\"", "\"\\x\"", "\"\\u12\"", "\"\\uZZZZ\"", "\"\u{7F}\"",
        "\"\\\"\"", "\"\\\\\"", "\"\\b\\f\\n\\r\\t\"", "\"é\"", "\"e\u{301}\"", "\"\u{FEFF}\"", "\"\u{10FFFF}\"",
        "\"\\u00e9\"", "\"\\u00E9\"", "\"\t\"", "\"\n\"", "\"a", "'a'",
        "\"" + String(repeating: "x", count: 300) + "\"",
    ]) + ByteMutator.oddUTF8.map { [0x22] + $0 + [0x22] }
    static let literals = tokens(["null", "true", "false", "nul", "True", "[]", "{}", "[null]", "{\"\":null}",
                                  "[1,]", "{\"a\":1,}", "[,]", "{,}", "{\"a\"}", "{\"a\":}", "[1 2]"])
    static let dictionary = tokens(["{", "}", "[", "]", ":", ",", "\"", "\\u", "\\ud800", "\\\\", "null", "true",
                                    "false", "1e999", "-0", "0.1", " ", "\t", "\n", "\r"])
        + [[0xEF, 0xBB, 0xBF]]

    init(maxLength: Int, extraDictionary: [[UInt8]] = []) {
        bytes = ByteMutator(dictionary: Self.dictionary + extraDictionary, maxLength: maxLength)
    }

    /// Builds the raw tree of `input`, nil when it does not parse.
    static func tree(_ input: [UInt8]) -> Node? {
        guard let value = try? JSONParser.parse(input, maxDepth: 64) else { return nil }
        return node(value)
    }

    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .array(let items): return .array(items.map(node))
        case .object(let object):
            return .object(object.members.map { (key: quoted($0.key), value: node($0.value)) })
        default: return .raw(Array(JSONWriter.serialize(value).utf8))
        }
    }

    static func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.appendString(text, to: &out)
        return out
    }

    /// Serializes, with whitespace between tokens when `spacing` is set.
    /// Serializes, with whitespace between tokens when `spacing` is set; stops (leaving the output
    /// cut short) once it passes `limit` bytes, as duplicated subtrees can grow exponentially.
    static func write(_ node: Node, into out: inout [UInt8], spacing: [UInt8] = [], limit: Int = 1 << 20) {
        guard out.count <= limit else { return }
        switch node {
        case .raw(let text): out.append(contentsOf: text)
        case .array(let items):
            out.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(contentsOf: spacing)
                write(item, into: &out, spacing: spacing, limit: limit)
            }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(contentsOf: spacing)
                out.append(contentsOf: member.key)
                out.append(contentsOf: spacing)
                out.append(0x3A)
                out.append(contentsOf: spacing)
                write(member.value, into: &out, spacing: spacing, limit: limit)
            }
            out.append(0x7D)
        }
    }

    static func serialize(_ node: Node, spacing: [UInt8] = [], limit: Int = 1 << 20) -> [UInt8] {
        var out: [UInt8] = []
        write(node, into: &out, spacing: spacing, limit: limit)
        return out
    }

    /// A hostile replacement value.
    func hostileValue(rng: inout FuzzRandom) -> Node {
        switch rng.below(6) {
        case 0, 1: return .raw(rng.pick(Self.numbers))
        case 2, 3: return .raw(rng.pick(Self.strings))
        case 4: return .raw(rng.pick(Self.literals))
        default: return .raw(Self.deep(rng.pick([2, 32, 63, 64, 65, 100, 200, 1000, 10_001]), object: rng.oneIn(2)))
        }
    }

    /// `n` nested containers.
    static func deep(_ n: Int, object: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n * 6)
        for _ in 0..<n { out.append(contentsOf: object ? Array("{\"a\":".utf8) : [0x5B]) }
        out.append(contentsOf: Array("1".utf8))
        for _ in 0..<n { out.append(object ? 0x7D : 0x5D) }
        return out
    }

    /// One structural change at a random node of `root`.
    func mutateTree(_ root: inout Node, rng: inout FuzzRandom, keys: [[UInt8]] = []) {
        var depth = 0
        mutateNode(&root, rng: &rng, keys: keys, depth: &depth)
    }

    private func mutateNode(_ node: inout Node, rng: inout FuzzRandom, keys: [[UInt8]], depth: inout Int) {
        depth += 1
        switch node {
        case .raw(let text):
            if rng.oneIn(3) {
                node = .raw(bytes.mutate(text, other: [], rng: &rng))
            } else {
                node = hostileValue(rng: &rng)
            }
        case .array(var items):
            if !items.isEmpty, rng.below(3) != 0, depth < 64 {
                let i = rng.below(items.count)
                mutateNode(&items[i], rng: &rng, keys: keys, depth: &depth)
            } else {
                switch rng.below(4) {
                case 0: items.append(hostileValue(rng: &rng))
                case 1: if !items.isEmpty { items.remove(at: rng.below(items.count)) }
                case 2: if let first = items.first { items += Array(repeating: first, count: rng.pick([2, 16, 200])) }
                default: node = hostileValue(rng: &rng); return
                }
            }
            node = .array(items)
        case .object(var members):
            if !members.isEmpty, rng.below(3) != 0, depth < 64 {
                let i = rng.below(members.count)
                mutateNode(&members[i].value, rng: &rng, keys: keys, depth: &depth)
            } else {
                let knownKeys = keys.isEmpty ? members.map(\.key) : keys + members.map(\.key)
                switch rng.below(8) {
                case 0: // duplicate a member with another value (last wins?)
                    if !members.isEmpty {
                        let m = members[rng.below(members.count)]
                        members.insert((m.key, hostileValue(rng: &rng)), at: rng.below(members.count + 1))
                    }
                case 1: if !members.isEmpty { members.remove(at: rng.below(members.count)) }
                case 2: // respell a key with escapes (same decoded name)
                    if !members.isEmpty {
                        let i = rng.below(members.count)
                        members[i].key = Self.escaped(members[i].key, rng: &rng)
                    }
                case 3: // a known key, hostile value
                    if !knownKeys.isEmpty { members.append((rng.pick(knownKeys), hostileValue(rng: &rng))) }
                case 4: // odd key
                    if !members.isEmpty {
                        members[rng.below(members.count)].key = rng.pick(Self.strings)
                    }
                case 5: members.shuffle(using: &rng)
                case 6: // swap two members' values
                    if members.count >= 2 {
                        let a = rng.below(members.count), b = rng.below(members.count)
                        let v = members[a].value
                        members[a].value = members[b].value
                        members[b].value = v
                    }
                default: node = hostileValue(rng: &rng); return
                }
            }
            node = .object(members)
        }
    }

    /// `"abc"` → `"a\u0062c"` (one or more characters escaped), or `\/`-style respellings.
    static func escaped(_ key: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        guard key.count > 2 else { return key }
        var out: [UInt8] = [0x22]
        for c in key[1..<(key.count - 1)] {
            if c < 0x80, c != 0x5C, c != 0x22, rng.oneIn(2) {
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            } else {
                out.append(c)
            }
        }
        out.append(0x22)
        return out
    }

    /// A mutated JSON text: tree mutations most of the time, byte mutations otherwise.
    func mutate(_ input: [UInt8], other: [UInt8], rng: inout FuzzRandom, keys: [[UInt8]] = []) -> [UInt8] {
        if rng.below(3) != 0, var root = Self.tree(input) {
            for _ in 0..<rng.smallCount(max: 4) { mutateTree(&root, rng: &rng, keys: keys) }
            let spacing: [UInt8] = rng.oneIn(4) ? rng.pick([[0x20], [0x0A, 0x09], [0x0D, 0x0A], [0x0C], [0xC2, 0xA0]]) : []
            var out = Self.serialize(root, spacing: spacing, limit: bytes.maxLength)
            if rng.oneIn(5) { out = bytes.mutate(out, other: other, rng: &rng) }
            return out.count > bytes.maxLength ? Array(out[..<bytes.maxLength]) : out
        }
        return bytes.mutate(input, other: other, rng: &rng)
    }
}

extension FuzzRandom: RandomNumberGenerator {}
