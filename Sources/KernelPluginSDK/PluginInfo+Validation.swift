import KernelPluginABI

extension PluginInfo {
    /// Identity columns the kernel adds to every family table; a plugin may not declare them.
    public static let reservedColumnNames: Set<String> = [
        "event_id", "row_no", "ts", "ts_event", "subject_id", "producer_id", "schema_id", "received_at",
    ]

    /// Everything the host would refuse in this description, as readable sentences; empty when
    /// the plugin is well-formed. Plugin tests should `#expect(Plugin.plugin.problems.isEmpty)`.
    public var problems: [String] {
        var out: [String] = []
        if !Self.matches(name, first: Self.lower, rest: Self.lower + Self.digit + "_.-", maxLength: Limits.pluginName) {
            out.append("plugin name '\(name)' must match [a-z][a-z0-9_.-]{0,\(Limits.pluginName - 1)}")
        }
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count != 3 || parts.contains(where: { $0.isEmpty || !$0.utf8.allSatisfy { Self.digit.utf8.contains($0) } }) {
            out.append("version '\(version)' must be MAJOR.MINOR.PATCH")
        }
        if version.utf8.count > Limits.versionText { out.append("version is longer than \(Limits.versionText) bytes") }
        if buildInfo.utf8.count > Limits.buildInfo { out.append("build info is longer than \(Limits.buildInfo) bytes (the host ignores it)") }
        if buildInfo.utf8.contains(0) { out.append("build info contains a NUL byte") }
        if families.isEmpty { out.append("a plugin must serve at least one family") }
        if families.count > Limits.families { out.append("a plugin serves at most \(Limits.families) families") }
        var familyNames: Set<String> = []
        for f in families {
            if !familyNames.insert(f.name).inserted { out.append("family '\(f.name)' declared twice") }
            out += Self.problems(of: f)
        }
        return out
    }

    static func problems(of f: FamilySpec) -> [String] {
        var out: [String] = []
        let where_ = "family '\(f.name)'"
        if !matches(f.name, first: lower, rest: lower + digit + "_", maxLength: Limits.familyName) {
            out.append("\(where_): name must match [a-z][a-z0-9_]{0,\(Limits.familyName - 1)}")
        }
        if f.maxRowsPerEvent > Limits.rowsPerEvent { out.append("\(where_): maxRowsPerEvent is at most \(Limits.rowsPerEvent)") }
        if f.columns.count > Limits.columns { out.append("\(where_): at most \(Limits.columns) columns") }
        if let schema = f.payloadSchema, schema.utf8.count > Limits.schemaJSON {
            out.append("\(where_): payloadSchema is longer than \(Limits.schemaJSON) bytes")
        }
        if f.versions.lowerBound < 1 { out.append("\(where_): versions must start at 1 or later") }
        if f.maxRowsPerEvent < 1 { out.append("\(where_): maxRowsPerEvent must be at least 1") }
        if let schema = f.payloadSchema {
            var text = schema
            let parsed = text.withUTF8 { try? JSONParser.parse(UnsafeRawBufferPointer($0), maxDepth: 64) }
            if parsed?.objectValue == nil { out.append("\(where_): payloadSchema is not a JSON object") }
        }
        var columnNames: Set<String> = []
        for c in f.columns {
            let at = "\(where_), column '\(c.name)'"
            if !matches(c.name, first: lower, rest: lower + digit + "_", maxLength: Limits.columnName) {
                out.append("\(at): name must match [a-z][a-z0-9_]{0,\(Limits.columnName - 1)}")
            }
            if reservedColumnNames.contains(c.name) { out.append("\(at): name is reserved for the kernel's identity columns") }
            if !columnNames.insert(c.name).inserted { out.append("\(at): declared twice") }
            if let allowed = c.allowedValues {
                if c.type != .text { out.append("\(at): allowedValues only apply to text columns") }
                if allowed.isEmpty { out.append("\(at): allowedValues is empty") }
                if allowed.contains(where: { $0.utf8.contains(0) }) { out.append("\(at): an allowed value contains a NUL byte") }
                if allowed.count > Limits.allowedValues { out.append("\(at): at most \(Limits.allowedValues) allowedValues") }
                if allowed.contains(where: { $0.isEmpty || $0.utf8.count > Limits.allowedValue }) {
                    out.append("\(at): each allowed value has 1...\(Limits.allowedValue) bytes")
                }
            }
            if c.description.utf8.contains(0) { out.append("\(at): description contains a NUL byte") }
        }
        return out
    }

    static let lower = "abcdefghijklmnopqrstuvwxyz"
    static let digit = "0123456789"

    static func matches(_ s: String, first: String, rest: String, maxLength: Int) -> Bool {
        let u = Array(s.utf8)
        guard let head = u.first, u.count <= maxLength, first.utf8.contains(head) else { return false }
        return u.dropFirst().allSatisfy { rest.utf8.contains($0) }
    }
}
