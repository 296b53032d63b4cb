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
        try checkAdmissible(plugin)
        add(instance: try plugin.instantiate(configJSON: configJSON, logger: logger))
    }

    /// Throws if `plugin` has the name of a plugin in the registry or would serve a family+version
    /// already served.
    public func checkAdmissible(_ plugin: LoadedPlugin) throws(PluginLoadError) {
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
    }

    /// Adds an initialised plugin whose admissibility was checked (`checkAdmissible`). The
    /// plugin lifecycle builds each new routing table this way from instances it already holds.
    public mutating func add(instance: PluginInstance) {
        let index = entries.count
        entries.append(Entry(instance: instance))
        for family in instance.descriptor.families {
            routes[family.name, default: []].append((family.versions, index))
        }
    }

    /// A registry routing to `instances` (checked to be admissible together, in this order).
    public init(instances: [PluginInstance]) {
        for instance in instances { add(instance: instance) }
    }

    /// Files of a plugin name that also loads, with a higher version, from another file: they
    /// are not instantiated (see `load(directory:)`).
    public private(set) var superseded: [(plugin: PluginDescriptor, path: String, by: String)] = []

    /// Loads every `*.so` in `directory` in name order. Each refused file is logged once with its
    /// reason and skipped; the rest keep working. A missing directory is an empty registry.
    ///
    /// When several files carry the same plugin name, the highest version is the one loaded and
    /// the others are reported as superseded (not refused): an upgrade copied in beside the old
    /// file while the kernel ran goes on serving after a restart. If the highest version is
    /// refused, the next lower one is tried, and so on: as in a running kernel, where a refused
    /// upgrade leaves the version it would have replaced serving.
    ///
    /// `prepare` runs for a plugin once it is admissible, before its `init`; what it throws
    /// refuses the plugin. The kernel makes the plugin's family tables there, so a plugin whose
    /// table change is refused is never routed (docs/plugins.md, "Plugin lifecycle").
    public static func load(directory: String, logger: Logger,
                            configJSON: (String) -> String = { _ in "{}" },
                            prepare: (LoadedPlugin) throws(PluginLoadError) -> Void = { _ in }) -> PluginRegistry {
        var registry = PluginRegistry()
        var opened: [LoadedPlugin] = []
        for path in sharedObjects(in: directory) {
            do { opened.append(try PluginLoader.load(path: path)) } catch { registry.refuse(error, logger: logger) }
        }
        // Each plugin name's files, highest version first; among equal versions, name order.
        var candidates: [String: [LoadedPlugin]] = [:]
        for plugin in opened { candidates[plugin.descriptor.name, default: []].append(plugin) }
        for (name, files) in candidates {
            candidates[name] = files.enumerated()
                .sorted { ($0.element.descriptor.version, $1.offset) > ($1.element.descriptor.version, $0.offset) }
                .map(\.element)
        }
        // Each name is settled where its highest version sits in name order.
        var serving: [String: LoadedPlugin] = [:]
        for plugin in opened {
            let name = plugin.descriptor.name
            guard let files = candidates[name], files[0] === plugin else { continue }
            for file in files {
                do {
                    try registry.checkAdmissible(file)
                    try prepare(file)
                    registry.add(instance: try file.instantiate(configJSON: configJSON(name), logger: logger))
                } catch {
                    registry.refuse(error, logger: logger)
                    continue
                }
                serving[name] = file
                let d = file.descriptor
                logger.info("plugin loaded", metadata: [
                    "event": "infra", "component": "plugins", "file": .string(file.path), "plugin": .string(d.name),
                    "version": .string(d.version.description),
                    "families": .string(d.families.map { "\($0.name)@\($0.versions.lowerBound)-\($0.versions.upperBound)" }.joined(separator: ",")),
                ])
                break
            }
        }
        // The files below the one serving were never tried.
        for plugin in opened {
            let name = plugin.descriptor.name
            guard let winner = serving[name], let files = candidates[name],
                  let below = files.firstIndex(where: { $0 === winner }),
                  files[(below + 1)...].contains(where: { $0 === plugin }) else { continue }
            registry.superseded.append((plugin.descriptor, plugin.path, winner.path))
            logger.info("plugin superseded", metadata: [
                "event": "infra", "component": "plugins", "file": .string(plugin.path),
                "plugin": .string(plugin.descriptor.name), "version": .string(plugin.descriptor.version.description),
                "by_file": .string(winner.path), "by_version": .string(winner.descriptor.version.description),
            ])
        }
        return registry
    }

    private mutating func refuse(_ error: PluginLoadError, logger: Logger) {
        refused.append(error)
        logger.error("plugin refused", metadata: [
            "event": "infra", "component": "plugins", "file": .string(error.path),
            "reason_code": .string(error.reasonCode), "details": .string(error.detail),
        ])
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
