import Yams

/// A one-line message for a Yams error. Yams' own descriptions quote the offending line, or for
/// duplicate keys the whole document: either could print a secret, so only positions are kept.
enum YAMLErrorText {
    static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let while_ = context.map { " (\($0.text) started at line \($0.mark.line))" } ?? ""
            return "invalid YAML at line \(mark.line), column \(mark.column): \(problem)\(while_)"
        case let .reader(problem, offset, _, _):
            return "unreadable YAML text\(offset.map { " at character \($0)" } ?? ""): \(problem)"
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.sorted().map { ValueDisplay.quote($0) }.joined(separator: ", ")
            return "duplicate key \(keys) in the mapping at line \(context.mark.line)"
        default:
            return "invalid YAML"
        }
    }
}
