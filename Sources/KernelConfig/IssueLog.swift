/// Collects the issues found while reading one document; shared by every reader of it.
///
/// A class because readers for nested sections are values that all append to one list.
final class IssueLog {
    private(set) var issues: [ConfigError.Issue] = []

    func add(_ path: String, _ message: String, _ reason: ConfigError.Reason) {
        issues.append(ConfigError.Issue(path: path, message: message, reason: reason))
    }

    var isEmpty: Bool { issues.isEmpty }

    /// Dotted path of `key` under `parent`.
    static func join(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : parent + "." + key
    }
}
