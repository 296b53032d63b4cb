import Foundation

/// The metric names a PromQL expression selects, so tests can check that alert rules and
/// dashboards only query metrics the kernel exposes (a renamed metric otherwise leaves an alert
/// that can never fire). Not a PromQL parser: it removes what cannot be a metric name (label
/// matchers, strings, ranges, grouping clauses, numbers and durations, function calls,
/// keywords) and keeps the identifiers left.
public enum PromQLNames {
    static let keywords: Set<String> = [
        "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right",
        "inf", "nan", "Inf", "NaN",
    ]

    /// Every metric name in `expression` (with its `_bucket`/`_sum`/`_count` suffix, if any).
    public static func metrics(in expression: String) -> Set<String> {
        var text = expression
        for pattern in [#""(?:[^"\\]|\\.)*""#, #"'(?:[^'\\]|\\.)*'"#, #"\{[^}]*\}"#, #"\[[^\]]*\]"#,
                        #"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#] {
            text = replace(pattern, in: text, with: " ")
        }
        var names: Set<String> = []
        let identifier = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*"#)
        for match in identifier.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let range = Range(match.range, in: text)!
            let name = String(text[range])
            let next = text[range.upperBound...].first { !$0.isWhitespace }
            if next == "(" || keywords.contains(name) { continue }
            names.insert(name)
        }
        return names
    }

    /// The base family of a series name: `kernel_x_bucket` → `kernel_x` when `kernel_x` is a
    /// histogram in `types` (name → Prometheus type), else the name itself.
    public static func family(of name: String, types: [String: String]) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return name
    }

    /// Metric names followed by a label matcher block that lacks `matcher` (e.g.
    /// `instance=~"$instance"`), or by none: the selectors of a dashboard query that would
    /// ignore the dashboard's variable.
    public static func selectorsLacking(_ matcher: String, in expression: String, names: Set<String>) -> [String] {
        var lacking: [String] = []
        for name in names.sorted() {
            let escaped = NSRegularExpression.escapedPattern(for: name)
            let regex = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9_:])"# + escaped + #"(?![A-Za-z0-9_:])(\{[^}]*\})?"#)
            for match in regex.matches(in: expression, range: NSRange(expression.startIndex..., in: expression)) {
                let block = Range(match.range(at: 1), in: expression).map { String(expression[$0]) } ?? ""
                if !block.contains(matcher) { lacking.append(name) }
            }
        }
        return lacking
    }

    private static func replace(_ pattern: String, in text: String, with replacement: String) -> String {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                              withTemplate: NSRegularExpression.escapedTemplate(for: replacement))
    }
}
