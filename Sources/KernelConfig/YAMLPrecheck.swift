// Yams links its own libyaml as the C module `CYaml`; it is importable because `Yams` depends on it.
// This file is its only user: one linear pass over the parser events, before Yams builds a tree.
import CYaml

/// Bounds the work a config document can cause *before* `Yams.compose` builds the tree.
///
/// `compose` resolves an alias to the anchored node itself, so a "billion laughs" document is
/// cheap to compose but exponential to walk, to hash (Yams hashes mapping keys to find duplicates,
/// inside `compose`) and to serialize. This pass computes, with aliases expanded, the total weight
/// (one per node plus the bytes of every scalar) and the nesting depth, saturating instead of
/// overflowing, and refuses documents over the limits.
enum YAMLPrecheck {
    /// Expanded weight allowed: far above any real config, far below "hangs the process".
    static let maxWeight = 4_000_000
    /// Expanded nesting depth allowed; keeps every recursive walk (and `deinit`) shallow.
    static let maxDepth = 128

    private struct Frame {
        var weight = 1
        var depth = 0
        var anchor: String?
    }

    /// A message describing why the document is refused, or nil. Syntax errors are not reported
    /// here: the pass stops and leaves them to `compose`, whose messages carry line and column.
    static func problem(in text: String) -> String? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return "cannot initialise the YAML parser" }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> String? in
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return scan(&parser)
        }
    }

    private static func scan(_ parser: inout yaml_parser_t) -> String? {
        var anchors: [String: (weight: Int, depth: Int)] = [:]
        var stack: [Frame] = []
        var total = 0
        // total + the weight of every open collection: what the document weighs so far.
        var running = 0

        // Adds a finished node to its parent (or to the document total at the top).
        func finish(weight: Int, depth: Int, anchor: String?) -> String? {
            if let anchor { anchors[anchor] = (weight, depth) }
            if depth > maxDepth {
                return "nesting deeper than \(maxDepth) levels (aliases expanded)"
            }
            if stack.isEmpty {
                total = saturatingAdd(total, weight)
            } else {
                stack[stack.count - 1].weight = saturatingAdd(stack[stack.count - 1].weight, weight)
                stack[stack.count - 1].depth = max(stack[stack.count - 1].depth, depth)
            }
            running = saturatingAdd(running, weight)
            return running > maxWeight
                ? "document too large once aliases are expanded (limit \(maxWeight) nodes and bytes)" : nil
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return nil
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                if let problem = finish(weight: saturatingAdd(1, Int(scalar.length)), depth: 1,
                                        anchor: string(scalar.anchor)) {
                    return problem
                }
            case YAML_ALIAS_EVENT:
                // An undefined alias is a syntax error that `compose` reports; count it as one node.
                let target = string(event.data.alias.anchor).flatMap { anchors[$0] } ?? (1, 1)
                if let problem = finish(weight: target.weight, depth: target.depth, anchor: nil) {
                    return problem
                }
            case YAML_SEQUENCE_START_EVENT:
                stack.append(Frame(anchor: string(event.data.sequence_start.anchor)))
                running = saturatingAdd(running, 1)
            case YAML_MAPPING_START_EVENT:
                stack.append(Frame(anchor: string(event.data.mapping_start.anchor)))
                running = saturatingAdd(running, 1)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { return nil }
                // `finish` adds the frame's weight back, to its parent.
                running -= min(running, frame.weight)
                if let problem = finish(weight: frame.weight, depth: frame.depth + 1, anchor: frame.anchor) {
                    return problem
                }
            default:
                continue
            }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }

    private static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }
}
