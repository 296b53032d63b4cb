/// Reads the values that may come from the environment instead of the YAML file: a variable
/// `NAME` holds the value, or `NAME_FILE` names a file holding it (Docker/Kubernetes secrets).
///
/// Problems name the variable and, for `_FILE`, the file path; never the value.
struct EnvironmentOverrides {
    let environment: [String: String]
    let readFile: (String) throws -> String
    let log: IssueLog

    /// The value from `name` or `name_FILE`, with a label saying where it came from; nil when
    /// neither is set (an empty variable counts as unset). `path` is the config key it overrides.
    func value(_ name: String, allowFile: Bool, path: String) -> (value: String, origin: String)? {
        let direct = environment[name].flatMap { $0.isEmpty ? nil : $0 }
        let fileName = name + "_FILE"
        let filePath = allowFile ? environment[fileName].flatMap { $0.isEmpty ? nil : $0 } : nil
        if direct != nil, filePath != nil {
            log.add(path, "both \(name) and \(fileName) are set; set only one", .environment)
            return nil
        }
        if let direct {
            return (direct, "env \(name)")
        }
        guard let filePath else { return nil }
        let contents: String
        do {
            contents = try readFile(filePath)
        } catch {
            log.add(path, "cannot read \(ValueDisplay.quote(filePath)) named by \(fileName): \(error)", .environment)
            return nil
        }
        // Secret files conventionally end with a newline that is not part of the secret.
        var trimmed = Substring(contents)
        while let last = trimmed.last, last == "\n" || last == "\r" || last == "\r\n" {
            trimmed = trimmed.dropLast()
        }
        guard !trimmed.isEmpty else {
            log.add(path, "file \(ValueDisplay.quote(filePath)) named by \(fileName) is empty", .environment)
            return nil
        }
        return (String(trimmed), "file named by \(fileName)")
    }
}
