import KernelJSON
import KernelPlugins

/// The status file's name inside `plugins.dir` (hidden: the directory scan skips it).
public let pluginStatusFileName = ".kernel-status.json"

/// What the plugin lifecycle holds now: for `kernel plugins list`, the admin API and logs.
public struct PluginLifecycleStatus: Sendable, Equatable {
    public struct Active: Sendable, Equatable {
        public var name: String
        public var version: String
        public var path: String
        public var families: [String]
        /// Non-nil while quarantined: why (its families are stored generically meanwhile).
        public var quarantined: String?
    }

    public struct Retired: Sendable, Equatable {
        public var name: String
        public var version: String
        public var path: String
        /// `upgraded` (by `replacedBy`), `removed`, `replaced` (another plugin took its file) or
        /// `directory_changed`.
        public var reason: String
        public var replacedBy: String?
        public var atUnixSeconds: Int64
    }

    public struct Refused: Sendable, Equatable {
        public var path: String
        public var reasonCode: String
        public var detail: String
    }

    /// The plugins directory, the kernel's pid and when this status was taken (Unix seconds).
    public var directory: String
    public var pid: Int32 = 0
    public var updatedAt: Int64 = 0
    public var active: [Active] = []
    public var retired: [Retired] = []
    public var refused: [Refused] = []

    /// JSON text (the status file `kernel plugins list` reads).
    public var json: String {
        func string(_ s: String) -> JSONValue { .string(s) }
        let active = self.active.map { a -> JSONValue in
            var o: [(String, JSONValue)] = [("name", string(a.name)), ("version", string(a.version)), ("path", string(a.path)),
                                           ("families", .array(a.families.map(string)))]
            if let q = a.quarantined { o.append(("quarantined", string(q))) }
            return .object(JSONObject(o))
        }
        let retired = self.retired.map { r -> JSONValue in
            var o: [(String, JSONValue)] = [("name", string(r.name)), ("version", string(r.version)), ("path", string(r.path)),
                                           ("reason", string(r.reason)), ("at", .number(String(r.atUnixSeconds)))]
            if let by = r.replacedBy { o.append(("replaced_by", string(by))) }
            return .object(JSONObject(o))
        }
        let refused = self.refused.map { r -> JSONValue in
            .object(JSONObject([("path", string(r.path)), ("reason_code", string(r.reasonCode)), ("detail", string(r.detail))]))
        }
        return JSONWriter.serialize(.object(JSONObject([
            ("directory", string(directory)), ("pid", .number(String(pid))), ("updated_at", .number(String(updatedAt))),
            ("active", .array(active)), ("retired", .array(retired)), ("refused", .array(refused)),
        ])))
    }
}
