/// Finds anchors, aliases, merge keys and deep nesting in YAML text without building anything.
///
/// It follows libyaml's scanner (the one `Yams.compose` uses, `scanner.c`) token by token, keeping
/// only what decides *where tokens start*: the flow level, the block indentation stack, simple-key
/// candidates, and the extent of every scalar, comment, tag and directive. An `&` or `*` where
/// libyaml would start a token is an anchor or alias; anywhere else it is text. Where libyaml
/// would stop with an error, this scan carries on treating what follows as tokens: that can only
/// refuse more text, never let an alias through, and `compose` reports the error anyway.
struct YAMLStructureScanner {
    struct Found: Equatable {
        /// 1-based, as in Yams' error marks.
        var line: Int
        var column: Int
        var refusal: YAMLPrecheck.Refusal
    }

    /// A block collection libyaml has opened (its `indents` stack), for the nesting count.
    private struct Level {
        var column: Int
        var mapping: Bool
        /// A sequence written at the mapping's own column (`key:\n- a`) nests without indenting.
        var indentlessSequence = false
    }

    /// Where a simple (implicit, one-line) key may have started, per flow level.
    private struct KeyCandidate {
        var line: Int
        var column: Int
        var index: Int
        var isMerge = false
    }

    private let chars: [Unicode.Scalar]
    private let maxDepth: Int
    private var index = 0
    private var line = 0
    private var column = 0
    private var flowLevel = 0
    private var levels: [Level] = []
    private var simpleKeyAllowed = true
    private var keys: [KeyCandidate?] = [nil]
    /// The previous token was `?`: a `<<` right after it is an explicit merge key.
    private var afterKeyIndicator = false

    init(_ text: String, maxDepth: Int) {
        chars = Array(text.unicodeScalars)
        self.maxDepth = maxDepth
        // libyaml's reader drops a leading byte-order mark without counting a column.
        if chars.first == "\u{FEFF}" { index = 1 }
    }

    /// libyaml's current block indentation (`parser->indent`): -1 outside any block collection.
    private var indent: Int { levels.last?.column ?? -1 }

    private var depth: Int {
        levels.count + levels.reduce(0) { $0 + ($1.indentlessSequence ? 1 : 0) } + flowLevel
    }

    /// The first refused construct, in text order, or nil when there is none.
    mutating func firstRefusal() -> Found? {
        while true {
            skipToNextToken()
            dropStaleKeys()
            unrollIndent(to: column)
            guard index < chars.count else { return nil }
            let wasAfterKeyIndicator = afterKeyIndicator
            afterKeyIndicator = false
            let char = chars[index]

            if column == 0, char == "%" {
                // A directive runs to the end of its line (or is an error there).
                unrollIndent(to: -1)
                removeKey()
                simpleKeyAllowed = false
                while index < chars.count, !isBreak(chars[index]) { advance() }
                continue
            }
            if column == 0, isDocumentIndicator() {
                unrollIndent(to: -1)
                removeKey()
                simpleKeyAllowed = false
                advance(3)
                continue
            }

            switch char {
            case "[", "{":
                saveKey()
                flowLevel += 1
                keys.append(nil)
                simpleKeyAllowed = true
                if let found = depthCheck() { return found }
                advance()
            case "]", "}":
                removeKey()
                if flowLevel > 0 {
                    flowLevel -= 1
                    keys.removeLast()
                }
                simpleKeyAllowed = false
                advance()
            case ",":
                removeKey()
                simpleKeyAllowed = true
                advance()
            case "-" where isBlankOrEnd(at: index + 1):
                if flowLevel == 0 {
                    if indent < column {
                        levels.append(Level(column: column, mapping: false))
                    } else if indent == column, !levels.isEmpty, levels[levels.count - 1].mapping {
                        levels[levels.count - 1].indentlessSequence = true
                    }
                    if let found = depthCheck() { return found }
                }
                removeKey()
                simpleKeyAllowed = true
                advance()
            case "?" where flowLevel > 0 || isBlankOrEnd(at: index + 1):
                if let found = rollIndent(to: column) { return found }
                removeKey()
                simpleKeyAllowed = flowLevel == 0
                afterKeyIndicator = true
                advance()
            case ":" where flowLevel > 0 || isBlankOrEnd(at: index + 1):
                if let key = keys[flowLevel] {
                    if key.isMerge {
                        return Found(line: key.line + 1, column: key.column + 1, refusal: .mergeKey)
                    }
                    if let found = rollIndent(to: key.column) { return found }
                    keys[flowLevel] = nil
                    simpleKeyAllowed = false
                } else {
                    if let found = rollIndent(to: column) { return found }
                    simpleKeyAllowed = flowLevel == 0
                }
                advance()
            case "&", "*":
                return Found(line: line + 1, column: column + 1, refusal: .anchorOrAlias)
            case "!":
                saveKey()
                simpleKeyAllowed = false
                scanTag()
            case "|" where flowLevel == 0, ">" where flowLevel == 0:
                removeKey()
                simpleKeyAllowed = true
                scanBlockScalar()
            case "'", "\"":
                saveKey()
                simpleKeyAllowed = false
                scanQuotedScalar(single: char == "'")
            default:
                if startsPlainScalar(char) {
                    let startLine = line, startColumn = column
                    saveKey()
                    simpleKeyAllowed = false
                    if scanPlainScalar() {
                        if wasAfterKeyIndicator {
                            return Found(line: startLine + 1, column: startColumn + 1, refusal: .mergeKey)
                        }
                        if let key = keys[flowLevel], key.line == startLine, key.column == startColumn {
                            keys[flowLevel]?.isMerge = true
                        }
                    }
                } else {
                    // libyaml: "found character that cannot start any token". Step over it.
                    advance()
                }
            }
        }
    }

    // MARK: - Tokens

    /// libyaml's `fetch_next_token` rule for where a plain scalar may start.
    private func startsPlainScalar(_ char: Unicode.Scalar) -> Bool {
        let next = index + 1
        switch char {
        case "-":
            return !isBlank(at: next)
        case "?", ":":
            return flowLevel == 0 && !isBlankOrEnd(at: next)
        case ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", "\0":
            return false
        default:
            return !isBlankOrEnd(at: index)
        }
    }

    /// Consumes a plain scalar (possibly over several lines); true when it is exactly `<<`.
    private mutating func scanPlainScalar() -> Bool {
        let limit = indent + 1
        let start = index
        var end = index
        var sawBreak = false
        while true {
            if column == 0, isDocumentIndicator() { break }
            if index < chars.count, chars[index] == "#" { break }
            while !isBlankOrEnd(at: index) {
                let char = chars[index]
                if (char == ":" && isBlankOrEnd(at: index + 1))
                    || (flowLevel > 0 && (char == "," || char == "[" || char == "]" || char == "{" || char == "}")) {
                    break
                }
                if flowLevel > 0, char == ":", index + 1 < chars.count,
                   ",?[]{}".unicodeScalars.contains(chars[index + 1]) {
                    // libyaml: "found unexpected ':'" (an error); let the ':' be a token.
                    break
                }
                advance()
                end = index
            }
            guard index < chars.count, isBlank(chars[index]) || isBreak(chars[index]) else { break }
            while index < chars.count, isBlank(chars[index]) || isBreak(chars[index]) {
                if isBreak(chars[index]) {
                    skipLine()
                    sawBreak = true
                } else {
                    advance()
                }
            }
            if flowLevel == 0, column < limit { break }
        }
        if sawBreak { simpleKeyAllowed = true }
        return end - start == 2 && chars[start] == "<" && chars[start + 1] == "<"
    }

    /// Consumes a single- or double-quoted scalar, escapes included, up to its closing quote.
    private mutating func scanQuotedScalar(single: Bool) {
        let quote: Unicode.Scalar = single ? "'" : "\""
        advance()
        while true {
            // A document indicator or the end inside the quotes is an error: libyaml stops there.
            if column == 0, isDocumentIndicator() { return }
            guard index < chars.count, chars[index] != "\0" else { return }
            while !isBlankOrEnd(at: index) {
                let char = chars[index]
                if single, char == "'", index + 1 < chars.count, chars[index + 1] == "'" {
                    advance(2)
                } else if char == quote {
                    break
                } else if !single, char == "\\", index + 1 < chars.count, isBreak(chars[index + 1]) {
                    advance()
                    skipLine()
                    break
                } else if !single, char == "\\" {
                    // The escaped character (and any hex digits after it) cannot end the scalar.
                    advance(index + 1 < chars.count ? 2 : 1)
                } else {
                    advance()
                }
            }
            if index < chars.count, chars[index] == quote {
                advance()
                return
            }
            while index < chars.count, isBlank(chars[index]) || isBreak(chars[index]) {
                if isBreak(chars[index]) { skipLine() } else { advance() }
            }
        }
    }

    /// Consumes `|` or `>`, its header line and every content line (libyaml's indentation rules).
    private mutating func scanBlockScalar() {
        advance()
        var increment = 0
        if index < chars.count, chars[index] == "+" || chars[index] == "-" {
            advance()
            if let digit = digit(at: index) {
                increment = digit
                advance()
            }
        } else if let digit = digit(at: index) {
            increment = digit
            advance()
            if index < chars.count, chars[index] == "+" || chars[index] == "-" { advance() }
        }
        while index < chars.count, isBlank(chars[index]) { advance() }
        if index < chars.count, chars[index] == "#" {
            while index < chars.count, !isBreak(chars[index]) { advance() }
        }
        // Anything else on the header line is an error; scan it as tokens.
        guard index >= chars.count || isBreak(chars[index]) else { return }
        if index < chars.count { skipLine() }

        var contentIndent = increment > 0 ? (indent >= 0 ? indent + increment : increment) : 0
        guard skipBlockScalarBreaks(&contentIndent) else { return }
        while column == contentIndent, index < chars.count {
            while index < chars.count, !isBreak(chars[index]) { advance() }
            if index < chars.count { skipLine() }
            guard skipBlockScalarBreaks(&contentIndent) else { return }
        }
    }

    /// libyaml's `scan_block_scalar_breaks`: indentation and empty lines, fixing the content
    /// indentation on first use. False where libyaml reports a tab in the indentation.
    private mutating func skipBlockScalarBreaks(_ contentIndent: inout Int) -> Bool {
        var maxIndent = 0
        while true {
            while contentIndent == 0 || column < contentIndent, index < chars.count, chars[index] == " " {
                advance()
            }
            maxIndent = max(maxIndent, column)
            if contentIndent == 0 || column < contentIndent, index < chars.count, chars[index] == "\t" {
                return false
            }
            guard index < chars.count, isBreak(chars[index]) else { break }
            skipLine()
        }
        if contentIndent == 0 {
            contentIndent = max(maxIndent, indent + 1, 1)
        }
        return true
    }

    /// Consumes `!`, `!suffix`, `!handle!suffix` or `!<verbatim>`. `&` and `*` are URI characters.
    private mutating func scanTag() {
        advance()
        if index < chars.count, chars[index] == "<" {
            advance()
            while index < chars.count, isURIChar(chars[index], verbatim: true) { advance() }
            if index < chars.count, chars[index] == ">" { advance() }
        } else {
            while index < chars.count, isURIChar(chars[index], verbatim: false) { advance() }
        }
    }

    // MARK: - Scanner state

    /// Spaces, tabs, comments and line breaks up to the next token.
    private mutating func skipToNextToken() {
        while true {
            if column == 0, index < chars.count, chars[index] == "\u{FEFF}" { advance() }
            // libyaml refuses some tabs here; skipping them all only finds more tokens.
            while index < chars.count, isBlank(chars[index]) { advance() }
            if index < chars.count, chars[index] == "#" {
                while index < chars.count, !isBreak(chars[index]) { advance() }
            }
            guard index < chars.count, isBreak(chars[index]) else { return }
            skipLine()
            if flowLevel == 0 { simpleKeyAllowed = true }
        }
    }

    /// A simple key must fit on one line (and in 1024 characters).
    private mutating func dropStaleKeys() {
        for level in keys.indices {
            if let key = keys[level], key.line < line || key.index + 1024 < index {
                keys[level] = nil
            }
        }
    }

    private mutating func saveKey() {
        if simpleKeyAllowed {
            keys[flowLevel] = KeyCandidate(line: line, column: column, index: index)
        }
    }

    private mutating func removeKey() {
        keys[flowLevel] = nil
    }

    /// A mapping opens at `column` when it is deeper than the current block.
    private mutating func rollIndent(to column: Int) -> Found? {
        guard flowLevel == 0, indent < column else { return nil }
        levels.append(Level(column: column, mapping: true))
        return depthCheck()
    }

    private mutating func unrollIndent(to column: Int) {
        guard flowLevel == 0 else { return }
        while indent > column { levels.removeLast() }
    }

    private func depthCheck() -> Found? {
        depth > maxDepth ? Found(line: line + 1, column: column + 1, refusal: .tooDeep) : nil
    }

    // MARK: - Characters

    private mutating func advance(_ count: Int = 1) {
        index += count
        column += count
    }

    /// Steps over one line break (CR LF counts as one).
    private mutating func skipLine() {
        if chars[index] == "\r", index + 1 < chars.count, chars[index + 1] == "\n" {
            index += 2
        } else {
            index += 1
        }
        line += 1
        column = 0
    }

    /// `---` or `...` followed by a blank, a break or the end.
    private func isDocumentIndicator() -> Bool {
        guard index + 2 < chars.count else { return false }
        let char = chars[index]
        guard char == "-" || char == "." else { return false }
        return chars[index + 1] == char && chars[index + 2] == char && isBlankOrEnd(at: index + 3)
    }

    private func isBreak(_ char: Unicode.Scalar) -> Bool {
        char == "\n" || char == "\r" || char == "\u{85}" || char == "\u{2028}" || char == "\u{2029}"
    }

    private func isBlank(_ char: Unicode.Scalar) -> Bool {
        char == " " || char == "\t"
    }

    private func isBlank(at position: Int) -> Bool {
        position < chars.count && isBlank(chars[position])
    }

    /// libyaml's `IS_BLANKZ`: blank, line break, NUL or the end of the text.
    private func isBlankOrEnd(at position: Int) -> Bool {
        guard position < chars.count else { return true }
        let char = chars[position]
        return isBlank(char) || isBreak(char) || char == "\0"
    }

    /// A block scalar indentation indicator, `1`…`9` (`0` is an error in libyaml).
    private func digit(at position: Int) -> Int? {
        guard position < chars.count, ("1"..."9").contains(chars[position]) else { return nil }
        return Int(chars[position].value) - 0x30
    }

    /// libyaml's `scan_tag_uri` character set (ASCII only).
    private func isURIChar(_ char: Unicode.Scalar, verbatim: Bool) -> Bool {
        guard char.isASCII else { return false }
        switch char {
        case "0"..."9", "A"..."Z", "a"..."z", "_", "-", ";", "/", "?", ":", "@", "&", "=", "+", "$", ".", "%",
             "!", "~", "*", "'", "(", ")":
            return true
        case ",", "[", "]":
            return verbatim
        default:
            return false
        }
    }
}
