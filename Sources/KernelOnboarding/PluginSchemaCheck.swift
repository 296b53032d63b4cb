import KernelJSON
import KernelPlugins

/// Checks a subject's schema against the loaded plugin that serves its family (docs/plugins.md, "Subject registration and the payload schema").
///
/// The rule (also in docs/plugins.md, "Subject registration and the payload schema"):
/// 1. A family no loaded plugin serves is accepted as-is (`generic`): it is stored as JSON.
/// 2. A family a plugin serves must be registered at a version inside one plugin's `versions`
///    range; otherwise its events would silently fall back to generic storage.
/// 3. If that plugin declares `payload_schema_json`, the schema body must be a JSON Schema object
///    compatible with it (see `PluginSchemaMatcher`): every property the plugin requires is
///    declared, and every `type`/`enum` the body states for a property the plugin describes is
///    one the plugin accepts. A plugin without a payload schema accepts any body.
/// A refusal carries a human-readable `details` text for `{error:"invalid_payload", details}`.
/// `SubjectStore` applies it to every schema a subject is newly bound to (created, or an existing
/// version bound by register); an operation that keeps the current schema is not re-checked.
public struct PluginSchemaCheck: Sendable {
    /// The outcome for one (family, version, body).
    public enum Verdict: Sendable, Equatable {
        /// No loaded plugin serves the family: stored generically, nothing to check.
        case generic
        /// A plugin serves the family at this version and the body matches its description.
        case accepted
        /// A plugin serves the family and the schema does not fit it; the text says why.
        case refused(details: String)
    }

    /// The families of the plugins loaded right now (asked on every check, so a reload shows).
    let families: @Sendable () -> [FamilyDescriptor]

    /// - Parameter families: the families served by the loaded plugins, e.g. from the registry.
    public init(families: @escaping @Sendable () -> [FamilyDescriptor]) {
        self.families = families
    }

    /// A check that treats every family as generic (no plugins loaded).
    public static let none = PluginSchemaCheck(families: { [] })

    /// True when a loaded plugin serves `family` (at some version).
    public func serves(family: String) -> Bool {
        families().contains { Self.sameBytes($0.name, family) }
    }

    /// Checks schema `body` registered as version `version` of `family`.
    public func check(family: String, version: Int, body: JSONValue) -> Verdict {
        let serving = families().filter { Self.sameBytes($0.name, family) }
        guard !serving.isEmpty else { return .generic }
        guard version > 0, version <= Int(UInt32.max),
              let descriptor = serving.first(where: { $0.versions.contains(UInt32(version)) }) else {
            let ranges = serving.map { "\($0.versions.lowerBound)...\($0.versions.upperBound)" }.joined(separator: ", ")
            return .refused(details: "schema version \(version) of family \(family) is not served by the loaded plugin (versions \(ranges))")
        }
        guard let text = descriptor.payloadSchemaJSON,
              case .object(let pluginSchema)? = try? JSONParser.parse(text) else {
            // No description, or one the loader should have refused: nothing to compare with.
            return .accepted
        }
        let problems = PluginSchemaMatcher.problems(body: body, plugin: pluginSchema)
        guard !problems.isEmpty else { return .accepted }
        return .refused(details: "schema_body does not match plugin family \(family) v\(version): "
            + PluginSchemaMatcher.summary(problems))
    }

    /// Byte equality of two strings (names are compared as declared, not canonically).
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
    }
}
