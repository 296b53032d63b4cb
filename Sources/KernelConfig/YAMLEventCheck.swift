import CYaml

/// Walks libyaml's event stream (the parser `Yams.compose` itself runs on) and reports the first
/// anchor, alias, merge key or nesting past `maxDepth`, before anything is composed.
///
/// libyaml decides what is a token: an `&` or `*` inside a quoted, block or plain scalar, a
/// comment or a tag is text to it, so it is text here too. A syntax error ends the walk with
/// nothing found: `compose` reports it with a better message.
struct YAMLEventCheck {
    struct Found: Equatable {
        /// 1-based, as in Yams' error marks.
        var line: Int
        var column: Int
        var refusal: YAMLPrecheck.Refusal
    }

    /// One open collection: a mapping alternates key, value; a sequence holds values only.
    private struct Open {
        var mapping: Bool
        var nextIsKey = true
    }

    static func firstRefusal(in text: String, maxDepth: Int) -> Found? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [0] }   // never hand libyaml a NULL buffer
        return bytes.withUnsafeBufferPointer { buffer -> Found? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, text.utf8.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var open: [Open] = []
            // libyaml counts a byte-order mark as a column of the first line; editors do not.
            let bomShift = text.unicodeScalars.first == "\u{FEFF}" ? 1 : 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                let mark = Found(line: line, column: Int(event.start_mark.column) + 1 - (line == 1 ? bomShift : 0),
                                 refusal: .anchorOrAlias)
                // Whether this node is a mapping key, and the mapping's next node then a value.
                var isKey = false
                if !open.isEmpty, open[open.count - 1].mapping,
                   [YAML_SCALAR_EVENT, YAML_ALIAS_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT].contains(event.type) {
                    isKey = open[open.count - 1].nextIsKey
                    open[open.count - 1].nextIsKey.toggle()
                }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_ALIAS_EVENT:
                    return mark
                case YAML_SCALAR_EVENT:
                    if event.data.scalar.anchor != nil { return mark }
                    if isKey, event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE, event.data.scalar.tag == nil,
                       event.data.scalar.length == 2, let value = event.data.scalar.value,
                       value[0] == UInt8(ascii: "<"), value[1] == UInt8(ascii: "<") {
                        return Found(line: mark.line, column: mark.column, refusal: .mergeKey)
                    }
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor
                                                                         : event.data.mapping_start.anchor
                    if anchor != nil { return mark }
                    open.append(Open(mapping: event.type == YAML_MAPPING_START_EVENT))
                    if open.count > maxDepth { return Found(line: mark.line, column: mark.column, refusal: .tooDeep) }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    if !open.isEmpty { open.removeLast() }
                default:
                    break
                }
            }
        }
    }
}
