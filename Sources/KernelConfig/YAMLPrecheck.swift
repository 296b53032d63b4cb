/// Refuses, before `Yams.compose` sees the text, the YAML features a daemon config has no use for
/// and that make composing it dangerous.
///
/// `compose` resolves an alias to the anchored node itself, so a "billion laughs" document is
/// cheap to compose but exponential to walk, to hash (Yams hashes mapping keys to find duplicates,
/// inside `compose`) and to serialize. Rather than measure how far aliases expand, the kernel
/// configuration does not accept anchors (`&name`), aliases (`*name`) or merge keys (`<<`) at all.
/// Without aliases a node costs at least one byte of text, so `KernelConfig.maxTextBytes` bounds
/// the work; nesting is bounded here too, because `compose` and every walk after it recurse.
///
/// The check walks libyaml's event stream (`YAMLEventCheck`), so `&` and `*` inside quoted,
/// block and plain scalars, comments and tags are plain text, exactly as `compose` reads them.
enum YAMLPrecheck {
    /// Nesting allowed (block levels plus flow brackets); keeps every recursive walk (and `deinit`) shallow.
    static let maxDepth = 128

    /// What the scan found that the kernel configuration refuses.
    enum Refusal: Equatable {
        case anchorOrAlias
        case mergeKey
        case tooDeep
    }

    /// `"<line>:<column>: …"` (both 1-based) describing why the document is refused, or nil.
    /// Syntax errors are not reported here: they are left to `compose`, whose messages say more.
    static func problem(in text: String) -> String? {
        guard let found = YAMLEventCheck.firstRefusal(in: text, maxDepth: maxDepth) else { return nil }
        return "\(found.line):\(found.column): " + message(for: found.refusal)
    }

    static func message(for refusal: Refusal) -> String {
        switch refusal {
        case .anchorOrAlias:
            return "YAML anchors and aliases are not accepted in the kernel configuration"
        case .mergeKey:
            return "YAML merge keys (<<) are not accepted in the kernel configuration"
        case .tooDeep:
            return "YAML nested deeper than \(maxDepth) levels is not accepted in the kernel configuration"
        }
    }
}
