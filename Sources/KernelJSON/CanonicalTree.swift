/// The flat tree `JSONCanonical` builds while `JSONReader` reads: nodes in one array, decoded strings
/// and formatted numbers in one byte arena, container children in one index array. Nothing refers
/// to anything by pointer, so building, sorting, writing and freeing never recurse.
struct CanonicalTree: JSONSink {
    typealias Value = Int

    enum Kind: UInt8 { case null, `true`, `false`, number, string, array, object }

    /// A scalar's bytes live in `arena[start..<start+count]` (numbers: already formatted; strings:
    /// decoded, well-formed UTF-8, not yet escaped). A container's children are
    /// `children[start..<start+count]`; an object's are key, value, key, value… sorted by key.
    struct Node {
        var kind: Kind
        var start: Int
        var count: Int
    }

    var nodes: [Node] = []
    var arena: [UInt8] = []
    var children: [Int] = []
    /// Finished values (and keys) whose container is still open.
    private var pending: [Int] = []
    /// `pending.count` when each open container began.
    private var opens: [Int] = []
    private var scratch: [UInt8] = []
    /// Set when a value Go would refuse was read (a number that overflows a double).
    var failed = false
    var root = 0

    init() {}

    private mutating func add(_ kind: Kind, start: Int = 0, count: Int = 0) -> Int {
        nodes.append(Node(kind: kind, start: start, count: count))
        return nodes.count - 1
    }

    mutating func null() -> Int { add(.null) }
    mutating func bool(_ b: Bool) -> Int { add(b ? .true : .false) }

    mutating func number(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
        // Go's strconv.ParseFloat is correctly rounded, as is Swift's (strtod underneath); a value
        // beyond the double range is an error for Go (ErrRange → UnmarshalTypeError), so for us too.
        // Underflow is not an error in Go: 1e-400 is 0, -1e-400 is -0.
        guard let d = Double(text), d.isFinite else {
            failed = true
            return add(.null)
        }
        let from = arena.count
        GoFloatFormat.append(d, to: &arena)
        return add(.number, start: from, count: arena.count - from)
    }

    mutating func string(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags) -> Int {
        let from = appendDecoded(p, start, end, flags)
        return add(.string, start: from, count: arena.count - from)
    }

    mutating func emptyObject() -> Int { add(.object, start: children.count) }
    mutating func emptyArray() -> Int { add(.array, start: children.count) }
    mutating func beginObject() { opens.append(pending.count) }
    mutating func beginArray() { opens.append(pending.count) }

    mutating func key(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags) {
        let from = appendDecoded(p, start, end, flags)
        pending.append(add(.string, start: from, count: arena.count - from))
    }

    mutating func element(_ value: Int) { pending.append(value) }

    mutating func endArray() -> Int {
        let open = opens.removeLast()
        let start = children.count
        children.append(contentsOf: pending[open...])
        pending.removeSubrange(open...)
        return add(.array, start: start, count: children.count - start)
    }

    mutating func endObject() -> Int {
        let open = opens.removeLast()
        let pairCount = (pending.count - open) / 2
        // Stable order by key bytes, then input position: within a run of equal keys the last one is
        // the member Go's map keeps.
        var order = Array(0..<pairCount)
        order.sort { a, b in
            let c = compareKeys(pending[open + 2 * a], pending[open + 2 * b])
            return c != 0 ? c < 0 : a < b
        }
        let start = children.count
        var i = 0
        while i < order.count {
            var last = i
            while last + 1 < order.count,
                  compareKeys(pending[open + 2 * order[i]], pending[open + 2 * order[last + 1]]) == 0 {
                last += 1
            }
            let pair = open + 2 * order[last]
            children.append(pending[pair])
            children.append(pending[pair + 1])
            i = last + 1
        }
        pending.removeSubrange(open...)
        return add(.object, start: start, count: children.count - start)
    }

    /// Byte-wise comparison of two string nodes (Go's `strings.Compare` on the decoded keys).
    private func compareKeys(_ a: Int, _ b: Int) -> Int {
        let x = nodes[a], y = nodes[b]
        let n = min(x.count, y.count)
        var i = 0
        while i < n {
            let l = arena[x.start + i], r = arena[y.start + i]
            if l != r { return l < r ? -1 : 1 }
            i += 1
        }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }

    /// Appends the decoded, UTF-8-repaired string to the arena; returns where it starts.
    private mutating func appendDecoded(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
                                        _ flags: StringFlags) -> Int {
        let from = arena.count
        if !flags.hasEscape {
            if !flags.hasHighByte || UTF8Repair.isValid(p, from: start, to: end) {
                arena.append(contentsOf: UnsafeBufferPointer(start: p + start, count: end - start))
            } else {
                UTF8Repair.appendRepaired(p, from: start, to: end, into: &arena)
            }
            return from
        }
        scratch.removeAll(keepingCapacity: true)
        StringEscapes.appendUnescaped(p, from: start, to: end, into: &scratch)
        scratch.withUnsafeBufferPointer { UTF8Repair.appendRepaired($0.baseAddress!, from: 0, to: $0.count, into: &arena) }
        return from
    }

    /// Writes the tree from `root` with an explicit stack.
    func serialize() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(arena.count + nodes.count * 4)
        var stack: [(node: Int, next: Int)] = []
        var current: Int? = root
        while true {
            if let n = current {
                current = nil
                let node = nodes[n]
                switch node.kind {
                case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
                case .true: out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
                case .false: out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
                case .number: out.append(contentsOf: arena[node.start..<(node.start + node.count)])
                case .string: appendEscaped(node, to: &out)
                case .array, .object:
                    out.append(node.kind == .array ? ASCII.openBracket : ASCII.openBrace)
                    stack.append((n, 0))
                }
            }
            guard let top = stack.last else { break }
            let node = nodes[top.node]
            let isObject = node.kind == .object
            let step = isObject ? 2 : 1
            if top.next >= node.count {
                out.append(isObject ? ASCII.closeBrace : ASCII.closeBracket)
                stack.removeLast()
                continue
            }
            if top.next > 0 { out.append(ASCII.comma) }
            let child = node.start + top.next
            if isObject {
                appendEscaped(nodes[children[child]], to: &out)
                out.append(ASCII.colon)
                current = children[child + 1]
            } else {
                current = children[child]
            }
            stack[stack.count - 1].next += step
        }
        return out
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Go's `appendString` with `escapeHTML` on, for well-formed UTF-8.
    private func appendEscaped(_ node: Node, to out: inout [UInt8]) {
        let hex = Self.hexDigits
        out.append(ASCII.quote)
        var i = node.start
        let end = node.start + node.count
        while i < end {
            let c = arena[i]
            switch c {
            case ASCII.quote: out.append(ASCII.backslash); out.append(ASCII.quote)
            case ASCII.backslash: out.append(ASCII.backslash); out.append(ASCII.backslash)
            case ASCII.newline: out.append(ASCII.backslash); out.append(0x6E)
            case ASCII.carriageReturn: out.append(ASCII.backslash); out.append(0x72)
            case ASCII.tab: out.append(ASCII.backslash); out.append(0x74)
            case 0x08: out.append(ASCII.backslash); out.append(0x62)
            case 0x0C: out.append(ASCII.backslash); out.append(0x66)
            case 0x00..<0x20, 0x3C, 0x3E, 0x26: // other controls, < > &
                out.append(contentsOf: [ASCII.backslash, 0x75, ASCII.zero, ASCII.zero, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
            case 0xE2 where i + 2 < end && arena[i + 1] == 0x80 && (arena[i + 2] == 0xA8 || arena[i + 2] == 0xA9):
                // U+2028 LINE SEPARATOR / U+2029 PARAGRAPH SEPARATOR: JavaScript line terminators.
                out.append(contentsOf: [ASCII.backslash, 0x75, 0x32, 0x30, 0x32, arena[i + 2] == 0xA8 ? 0x38 : 0x39])
                i += 2
            default:
                out.append(c)
            }
            i += 1
        }
        out.append(ASCII.quote)
    }
}
