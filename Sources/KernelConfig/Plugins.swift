import Yams

extension KernelConfig {
    /// `plugins`: where normalizer plugins are loaded from and what each one is told at `init`.
    public struct Plugins: Sendable, Equatable {
        /// `plugins.dir`: directory scanned for plugin shared objects.
        public var dir = "./plugins"
        /// `plugins.call_budget_ms`: a normalize call slower than this is logged as slow.
        public var callBudgetMs = 50
        /// `plugins.crash_strikes`: an entry whose plugin call was running when the kernel died this
        /// many times is dead-lettered as `poison_message` (docs/plugins.md).
        public var crashStrikes = 2
        /// `plugins.hang_timeout_ms`: a single plugin call running longer than this on the wall
        /// clock is a hang: the kernel logs the culprit and exits, so the restart charges it.
        public var hangTimeoutMs = 10_000
        /// Where a plugin's normalize calls run (docs/plugins.md, "Isolation").
        public enum Isolation: String, Sendable, Equatable, CaseIterable {
            /// On the processor threads of the kernel: fastest; a crash or hang ends the kernel.
            case inProcess = "in_process"
            /// In a child process per plugin and processor: a crash or hang ends only the child.
            case process
        }
        /// `plugins.isolation`: the isolation of every plugin not named in `isolationOverrides`.
        public var isolation = Isolation.inProcess
        /// `plugins.isolation_overrides`: plugin name → its isolation, overriding `isolation`.
        public var isolationOverrides: [String: Isolation] = [:]
        /// `plugins.config`, converted: plugin name → JSON object text.
        public var configJSON: [String: String] = [:]

        /// A plugins section with every default.
        public init() {}

        /// The isolation plugin `name` runs in.
        public func isolation(for name: String) -> Isolation {
            isolationOverrides[name] ?? isolation
        }

        /// The JSON object text for plugin `name`'s `init`; `"{}"` when the config has none.
        public func configJSON(for name: String) -> String {
            configJSON[name] ?? "{}"
        }

        static let keys = ["dir", "config", "call_budget_ms", "crash_strikes", "hang_timeout_ms", "isolation",
                           "isolation_overrides"]

        init(_ reader: MappingReader) {
            dir = reader.string("dir", default: dir)
            callBudgetMs = reader.int("call_budget_ms", default: callBudgetMs, min: 1)
            crashStrikes = reader.int("crash_strikes", default: crashStrikes, min: 1)
            hangTimeoutMs = reader.int("hang_timeout_ms", default: hangTimeoutMs, min: 100)
            let allowed = Isolation.allCases.map(\.rawValue)
            isolation = Isolation(rawValue: reader.choice("isolation", default: isolation.rawValue, allowed: allowed)) ?? isolation
            isolationOverrides = reader.stringMap("isolation_overrides") { value in
                allowed.contains(value) ? nil : "expected one of \(allowed.joined(separator: ", ")), got \(value)"
            }.compactMapValues(Isolation.init(rawValue:))
            configJSON = Plugins.readConfig(reader)
        }

        private static func readConfig(_ reader: MappingReader) -> [String: String] {
            let path = reader.child("config")
            guard let node = reader.node("config") else { return [:] }
            guard case .mapping(let mapping) = node else {
                reader.log.add(path, "expected a mapping of plugin names to mappings, got \(ValueDisplay.describe(node))",
                               .wrongType)
                return [:]
            }
            var result: [String: String] = [:]
            for (keyNode, value) in mapping {
                guard case .scalar(let key) = keyNode, !key.string.isEmpty else {
                    reader.log.add(path, "plugin names must be non-empty strings, got \(ValueDisplay.describe(keyNode))",
                                   .wrongType)
                    continue
                }
                let pluginPath = IssueLog.join(path, key.string)
                if MappingReader.isNull(value) {
                    result[key.string] = "{}"
                    continue
                }
                guard case .mapping = value else {
                    // Not echoed: plugin settings may hold credentials.
                    reader.log.add(pluginPath, "expected a mapping (passed to the plugin as a JSON object), got "
                                   + ValueDisplay.describe(value, secret: true), .wrongType)
                    continue
                }
                do {
                    result[key.string] = try YAMLToJSON.json(value)
                } catch {
                    switch error {
                    case .tooDeep:
                        reader.log.add(pluginPath, "nested deeper than \(YAMLToJSON.maxDepth) levels", .invalidValue)
                    case .nonStringKey(let shown):
                        reader.log.add(pluginPath, "JSON object keys must be strings, got \(shown)", .wrongType)
                    }
                }
            }
            return result
        }
    }
}
