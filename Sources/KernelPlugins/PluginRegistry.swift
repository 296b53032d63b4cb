import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The set of plugins serving schema families, built from a plugins directory. Routing is by
/// family name and schema version; a family+version may be served by one plugin only.
public struct PluginRegistry: Sendable {
    /// A plugin that loaded, initialised and serves at least one family.
    public struct Entry: Sendable {
        public let instance: PluginInstance
        public var descriptor: PluginDescriptor { instance.descriptor }
        public var path: String { instance.plugin.path }
    }

    public private(set) var entries: [Entry] = []
    /// Files refused, each with the reason (already logged once when refused).
    public private(set) var refused: [PluginLoadError] = []
    private var routes: [String: [(versions: ClosedRange<UInt32>, entry: Int)]] = [:]

    public init() {}

    /// The plugin instance serving `family` at `version`, or nil (the family is stored generically).
    public func route(family: String, version: UInt32) -> (instance: PluginInstance, family: FamilyDescriptor)? {
        guard let candidates = routes[family] else { return nil }
        for candidate in candidates where candidate.versions.contains(version) {
            let entry = entries[candidate.entry]
            if let descriptor = entry.descriptor.families.first(where: { $0.name == family }) {
                return (entry.instance, descriptor)
            }
        }
        return nil
    }

    /// Every family served, with the plugin serving it, sorted by family name.
    public var servedFamilies: [(family: FamilyDescriptor, plugin: PluginDescriptor, path: String)] {
        entries.flatMap { e in e.descriptor.families.map { ($0, e.descriptor, e.path) } }
            .sorted { ($0.family.name, $0.family.versions.lowerBound) < ($1.family.name, $1.family.versions.lowerBound) }
    }

    /// Adds a loaded plugin, refusing it if it would serve a family+version already served.
    public mutating func add(_ plugin: LoadedPlugin, configJSON: String, logger: Logger) throws(PluginLoadError) {
        if let same = entries.first(where: { $0.descriptor.name == plugin.descriptor.name }) {
            throw PluginLoadError(path: plugin.path, reason: .duplicatePlugin,
                                  detail: "plugin \(plugin.descriptor.name) is already loaded from \(same.path)")
        }
        for family in plugin.descriptor.families {
            for existing in routes[family.name] ?? [] where existing.versions.overlaps(family.versions) {
                let other = entries[existing.entry]
                throw PluginLoadError(
                    path: plugin.path, reason: .duplicateFamily,
                    detail: "family \(family.name) versions \(family.versions.lowerBound)...\(family.versions.upperBound) already served by plugin \(other.descriptor.name) from \(other.path)")
            }
        }
        let instance = try plugin.instantiate(configJSON: configJSON, logger: logger)
        let index = entries.count
        entries.append(Entry(instance: instance))
        for family in plugin.descriptor.families {
            routes[family.name, default: []].append((family.versions, index))
        }
    }

    /// Loads every `*.so` in `directory` in name order. Each refused file is logged once with its
    /// reason and skipped; the rest keep working. A missing directory is an empty registry.
    public static func load(directory: String, logger: Logger,
                            configJSON: (String) -> String = { _ in "{}" }) -> PluginRegistry {
        var registry = PluginRegistry()
        for path in sharedObjects(in: directory) {
            do {
                let plugin = try PluginLoader.load(path: path)
                try registry.add(plugin, configJSON: configJSON(plugin.descriptor.name), logger: logger)
                let d = plugin.descriptor
                logger.info("plugin loaded", metadata: [
                    "event": "infra", "component": "plugins", "file": .string(path), "plugin": .string(d.name),
                    "version": .string(d.version.description),
                    "families": .string(d.families.map { "\($0.name)@\($0.versions.lowerBound)-\($0.versions.upperBound)" }.joined(separator: ",")),
                ])
            } catch {
                registry.refused.append(error)
                logger.error("plugin refused", metadata: [
                    "event": "infra", "component": "plugins", "file": .string(path),
                    "reason_code": .string(error.reasonCode), "details": .string(error.detail),
                ])
            }
        }
        return registry
    }

    /// `*.so` files in `directory`, sorted by name; hidden and temporary files are skipped so a
    /// plugin being copied in under a temporary name is never picked up half-written.
    public static func sharedObjects(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasSuffix(".so"), !name.hasPrefix(".") { names.append(name) }
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        return names.sorted().map { base + $0 }
    }
}
