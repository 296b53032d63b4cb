import KernelJSON

/// Compares a producer's schema body with a plugin's payload description, both in the JSON
/// Schema subset the plugin ABI allows (`type`, `properties`, `required`, `enum`, `items`).
///
/// The question asked is "can every payload the producer's schema allows be one the plugin
/// accepts?", answered leniently where the producer's schema says nothing:
/// - `type`: each type the body states must be one the plugin accepts (`integer` fits `number`).
///   A body that states no type is not contradicted.
/// - `enum`: when both state one, every body value must be in the plugin's list.
/// - `required` (plugin): every required property must be declared in the body's `properties`.
/// - `properties` / `items`: compared recursively where both sides describe them.
/// Keywords outside the subset are ignored. Pure; bounded by `maxDepth` and `maxProblems`.
enum PluginSchemaMatcher {
    static let maxDepth = 32
    static let maxProblems = 5
    /// Longest body-supplied text (an enum value, a type name) quoted back in a problem.
    static let maxQuoted = 64

    /// What is wrong, one line per problem (at most `maxProblems + 1`: the last one may say
    /// that more were found), empty when the body fits.
    static func problems(body: JSONValue, plugin: JSONObject) -> [String] {
        var found: [String] = []
        var more = false
        compare(body, plugin, path: "", depth: 0, into: &found, more: &more)
        if more { found.append("…") }
        return found
    }

    /// The problems joined for a `details` field.
    static func summary(_ problems: [String]) -> String {
        problems.joined(separator: "; ")
    }

    private static func compare(_ body: JSONValue, _ plugin: JSONObject, path: String, depth: Int,
                                into found: inout [String], more: inout Bool) {
        func report(_ text: String) {
            if found.count < maxProblems { found.append(text) } else { more = true }
        }
        let place = path.isEmpty ? "schema" : path
        guard depth < maxDepth else { return }
        guard case .object(let schema) = body else {
            report("\(place): expected a JSON Schema object, got \(kind(of: body))")
            return
        }

        // type
        let accepted = typeNames(plugin["type"])
        switch schema["type"] {
        case nil, .null?:
            break
        case let stated?:
            guard let stated = typeNames(stated) else {
                report("\(place): type must be a string or an array of strings")
                break
            }
            if let accepted, !accepted.isEmpty {
                for name in stated where !fits(name, accepted) {
                    report("\(place): type \(quoted(name)) is not accepted (plugin: \(accepted.joined(separator: ", ")))")
                }
            }
        }

        // enum
        if case .array(let allowed)? = plugin["enum"], let stated = schema["enum"] {
            if case .array(let values) = stated {
                let allowedSet = Set(allowed.map { JSONDeepMerge.Key(JSONWriter.serialize($0)) })
                for value in values where !allowedSet.contains(JSONDeepMerge.Key(JSONWriter.serialize(value))) {
                    report("\(place): enum value \(quoted(JSONWriter.serialize(value))) is not accepted (plugin: "
                        + allowed.map { JSONWriter.serialize($0) }.joined(separator: ", ") + ")")
                    if more { break }
                }
            } else {
                report("\(place): enum must be an array")
            }
        }

        // properties and required
        let declared: JSONObject?
        switch schema["properties"] {
        case nil, .null?: declared = nil
        case .object(let o)?: declared = o
        case _?:
            report("\(place): properties must be an object")
            declared = nil
        }
        if case .array(let required)? = plugin["required"] {
            for case .string(let name) in required where declared?[name] == nil {
                report("\(join(path, name)): required by the plugin but not declared in properties")
            }
        }
        if case .object(let described)? = plugin["properties"], let declared {
            for member in JSONDeepMerge.deduplicated(described) {
                guard case .object(let sub) = member.value, let stated = declared[member.key] else { continue }
                compare(stated, sub, path: join(path, member.key), depth: depth + 1, into: &found, more: &more)
            }
        }

        // items
        if case .object(let itemSchema)? = plugin["items"], let stated = schema["items"], !stated.isNull {
            compare(stated, itemSchema, path: (path.isEmpty ? "schema" : path) + "[]", depth: depth + 1,
                    into: &found, more: &more)
        }
    }

    /// The type names of a `type` keyword: a string or an array of strings; nil if malformed.
    private static func typeNames(_ value: JSONValue?) -> [String]? {
        switch value {
        case .string(let s)?: return [s]
        case .array(let items)?:
            var names: [String] = []
            for item in items {
                guard case .string(let s) = item else { return nil }
                names.append(s)
            }
            return names
        default: return nil
        }
    }

    private static func fits(_ name: String, _ accepted: [String]) -> Bool {
        accepted.contains { PluginSchemaCheck.sameBytes($0, name) } || (name == "integer" && accepted.contains("number"))
    }

    private static func join(_ path: String, _ name: String) -> String {
        let name = quoted(name, quotes: false)
        return path.isEmpty ? name : path + "." + name
    }

    /// `text`, cut to `maxQuoted` characters: body-supplied text must not blow up a response.
    private static func quoted(_ text: String, quotes: Bool = true) -> String {
        let cut = text.count > maxQuoted ? String(text.prefix(maxQuoted)) + "…" : text
        return quotes && !cut.hasPrefix("\"") ? "\"" + cut + "\"" : cut
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
