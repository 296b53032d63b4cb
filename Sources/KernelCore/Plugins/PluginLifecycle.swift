import KernelConfig
import KernelPlugins
import KernelPostgres
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps the running kernel's plugins in step with `plugins.dir`, without a restart:
///
/// - **hot add**: a new valid `*.so` is loaded (from a private snapshot, see
///   `PluginLoader.loadSnapshot`), its typed tables are made, and routing switches to it;
/// - **upgrade**: a file carrying an active plugin's name with a higher version is loaded beside
///   the old one and takes over its families; the old version is retired (still mapped, never
///   called again). An equal or lower version is refused;
/// - **removal**: when an active plugin's file goes, its typed families are parked (their events
///   stay pending in Redis, `ParkingLot`) until a plugin serves them again;
/// - **quarantine**: a plugin that keeps running past `plugins.call_budget_ms` (CPU time) is
///   taken out of routing, its typed families parked, until its file is replaced;
/// - **reload** (SIGHUP): re-reads the directory and the live settings (`plugins.dir`,
///   `plugins.call_budget_ms`, `plugins.config` for plugins loaded from then on).
///
/// Every change swaps the router's registry as a whole; processors cut their open batch when they
/// see a new generation, so a switch always falls on a batch boundary. Nothing is ever dlclosed.
///
/// One thread ("dk-plugins") does all of it: it wakes on inotify events about `*.so` names, on
/// `reload`, on a quarantine, and every `rescanIntervalSeconds` (the fallback when inotify cannot
/// see a change), and rescans the directory each time.
public final class PluginLifecycle: @unchecked Sendable {
    // @unchecked: the state marked "lifecycle thread" is touched by `start()` before the thread
    // starts and then by that thread only; everything shared is in a Mutex or an Atomic.

    /// Timing and quarantine policy (fixed; not in the config file).
    public struct Options: Sendable {
        /// Periodic rescan, the fallback for changes inotify does not report.
        public var rescanIntervalSeconds = 2.0
        /// A file modified less than this long ago is left for the next look (still being written).
        public var settleSeconds = 0.25
        /// Calls over budget within `quarantineWindowSeconds` that quarantine a plugin.
        public var quarantineAfter = 3
        public var quarantineWindowSeconds = 60.0
        public init() {}
    }

    public let router: PluginRouter
    public var metrics: PluginMetrics { router.metrics }
    /// Writes the status as JSON to `plugins.dir/.kernel-status.json` after every change, for
    /// `kernel plugins list` (best effort: a read-only directory just has none). Set before `start()`.
    public var writesStatusFile = false
    let logger: Logger
    let options: Options
    private let quarantine: PluginQuarantine
    private let watcher: PluginDirectoryWatcher
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let finished = Semaphore()
    private let requests = Mutex<Requests>(Requests())
    private let statusBox: Mutex<PluginLifecycleStatus>

    // Lifecycle thread.
    private var config: KernelConfig
    private var active: [ActivePlugin] = []
    private var retired: [PluginLifecycleStatus.Retired] = []
    /// The identity each file had when last considered (loaded, refused or adopted).
    private var considered: [String: PluginFileIdentity] = [:]
    private var refused: [String: PluginLoadError] = [:]
    private var dirty = false
    private var directoryMissing = false

    struct ActivePlugin {
        var instance: PluginInstance
        var path: String
        /// Why it is quarantined; nil while it serves.
        var quarantined: String?
        var descriptor: PluginDescriptor { instance.descriptor }
    }

    struct Requests {
        var reloads: [(reason: String, config: KernelConfig?, configPath: String?)] = []
        var quarantines: [(instance: PluginInstance, detail: String)] = []
    }

    public init(router: PluginRouter, config: KernelConfig, logger: Logger, options: Options = Options()) {
        self.router = router
        self.config = config
        self.logger = logger
        self.options = options
        quarantine = PluginQuarantine(threshold: options.quarantineAfter, windowSeconds: options.quarantineWindowSeconds)
        watcher = PluginDirectoryWatcher(directory: config.plugins.dir)
        statusBox = Mutex(PluginLifecycleStatus(directory: config.plugins.dir))
    }

    /// Adopts what the router serves now (the start-up load) and starts watching.
    public func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        router.setCallBudget(milliseconds: config.plugins.callBudgetMs)
        adopt(router.registry)
        router.onSlowCall { [weak self] call in self?.slowCall(call) }
        router.attach(self)
        publish()
        logger.info("plugin lifecycle started", metadata: [
            "event": "infra", "component": "plugins", "dir": .string(config.plugins.dir),
            "inotify": "\(watcher.isWatching)", "rescan_interval_s": "\(options.rescanIntervalSeconds)",
            "call_budget_ms": "\(config.plugins.callBudgetMs)", "active": "\(active.count)",
        ])
        if !watcher.isWatching {
            logger.warning("plugins directory not watched (inotify unavailable or directory missing); rescanning periodically", metadata: [
                "event": "infra", "component": "plugins", "dir": .string(config.plugins.dir),
                "interval_s": "\(options.rescanIntervalSeconds)",
            ])
        }
        DedicatedThread.start(name: "dk-plugins") { [self] in
            run()
            finished.signal()
        }
    }

    /// Stops the thread (the plugins stay loaded and routed as they are).
    public func stop() {
        guard started.load(ordering: .relaxed), !stopping.exchange(true, ordering: .relaxed) else { return }
        router.onSlowCall(nil)
        router.attach(nil)
        watcher.wake()
        _ = finished.wait(timeoutSeconds: 30)
        if writesStatusFile { unlink(statusFilePath(config.plugins.dir)) }
    }

    /// Rescans the plugins directory soon (on the lifecycle thread), first applying the live
    /// settings of `config` if given (`plugins.dir`, `plugins.call_budget_ms`, `plugins.config`).
    /// Returns at once: safe from a signal-dispatch thread.
    public func reload(reason: String, config: KernelConfig? = nil) {
        requests.withLock { $0.reloads.append((reason, config, nil)) }
        watcher.wake()
    }

    /// As `reload(reason:config:)`, re-reading the configuration file at `configPath` on the
    /// lifecycle thread; an invalid file is logged and only the directory is rescanned.
    public func reload(reason: String, configPath: String) {
        requests.withLock { $0.reloads.append((reason, nil, configPath)) }
        watcher.wake()
    }

    /// Active, retired and refused plugins, as of the last change.
    public var status: PluginLifecycleStatus { statusBox.withLock { $0 } }

    // MARK: lifecycle thread

    private func run() {
        var retrySoon = scan(reason: nil)
        while !stopping.load(ordering: .relaxed) {
            let wait = retrySoon ? options.settleSeconds : options.rescanIntervalSeconds
            if watcher.wait(timeoutSeconds: wait) {
                // A copy or a burst of renames: let it finish before looking.
                usleep(50_000)
                watcher.wait(timeoutSeconds: 0)
            }
            if stopping.load(ordering: .relaxed) { break }
            let work = requests.withLock { pending -> Requests in
                defer { pending = Requests() }
                return pending
            }
            for q in work.quarantines { applyQuarantine(q.instance, detail: q.detail) }
            var reason: String?
            for r in work.reloads {
                metrics.reloadsTotal.add(1, ordering: .relaxed)
                if let newConfig = r.config { apply(newConfig) }
                if let path = r.configPath {
                    do { apply(try KernelConfig.load(path: path)) } catch {
                        logger.error("configuration not reloaded: invalid file; plugins directory rescanned with the running settings", metadata: [
                            "event": "infra", "component": "plugins", "reason_code": "config_invalid", "file": .string(path),
                            "details": .string("\(error)"),
                        ])
                    }
                }
                reason = r.reason
            }
            watcher.addWatch()
            retrySoon = scan(reason: reason)
        }
    }

    /// Takes the start-up registry as the active set; files refused or superseded at start-up
    /// are remembered so they are not tried again until they change.
    private func adopt(_ registry: PluginRegistry) {
        for entry in registry.entries {
            active.append(ActivePlugin(instance: entry.instance, path: entry.path))
            if let id = PluginFileIdentity.of(path: entry.path) { considered[entry.path] = id }
        }
        for error in registry.refused {
            refused[error.path] = error
            if let id = PluginFileIdentity.of(path: error.path) { considered[error.path] = id }
        }
        let now = Int64(unixNanos() / 1_000_000_000)
        for s in registry.superseded {
            retired.append(.init(name: s.plugin.name, version: s.plugin.version.description, path: s.path,
                                 reason: "superseded", replacedBy: s.by, atUnixSeconds: now))
            if let id = PluginFileIdentity.of(path: s.path) { considered[s.path] = id }
        }
        updateGauges()
    }

    /// Applies the live settings of a re-read configuration.
    private func apply(_ newConfig: KernelConfig) {
        let old = config.plugins
        let new = newConfig.plugins
        // Only the plugins section is live; the rest (e.g. the DSN the tables are made on) stays
        // what the pipeline runs with.
        config.plugins = new
        var changed: [String] = []
        if old.callBudgetMs != new.callBudgetMs {
            router.setCallBudget(milliseconds: new.callBudgetMs)
            changed.append("call_budget_ms \(old.callBudgetMs) -> \(new.callBudgetMs)")
        }
        if old.dir != new.dir {
            if writesStatusFile { unlink(statusFilePath(old.dir)) }
            watcher.retarget(new.dir)
            changed.append("dir \(old.dir) -> \(new.dir)")
        }
        if old.configJSON != new.configJSON { changed.append("config (applies to plugins loaded from now on)") }
        logger.info("plugins settings reloaded", metadata: [
            "event": "infra", "component": "plugins",
            "changes": .string(changed.isEmpty ? "none" : changed.joined(separator: "; ")),
        ])
    }

    /// Compares the directory with what was last considered and applies the differences.
    /// Returns true when a file should be looked at again soon (still being written).
    private func scan(reason: String?) -> Bool {
        let directory = config.plugins.dir
        // A directory that is missing or unreadable (being swapped, a mount not there yet) is
        // not "every plugin removed": keep serving what is loaded and look again later.
        guard PluginFileIdentity.directoryExists(directory), access(directory, R_OK | X_OK) == 0 else {
            if !directoryMissing {
                directoryMissing = true
                logger.warning("plugins directory missing or unreadable; loaded plugins keep serving", metadata: [
                    "event": "infra", "component": "plugins", "dir": .string(directory),
                ])
            }
            return false
        }
        directoryMissing = false
        var present: [String: PluginFileIdentity] = [:]
        let paths = PluginRegistry.sharedObjects(in: directory)
        for path in paths { if let id = PluginFileIdentity.of(path: path) { present[path] = id } }
        var changes: [String] = []
        var retrySoon = false

        for path in considered.keys.sorted() where present[path] == nil {
            considered[path] = nil
            if refused.removeValue(forKey: path) != nil { dirty = true }
            if let gone = active.first(where: { $0.path == path }) {
                let families = gone.descriptor.families.map(\.name).joined(separator: ",")
                retire(gone.instance, reason: "removed", by: nil)
                metrics.removalsTotal.add(1, ordering: .relaxed)
                changes.append("removed \(gone.descriptor.name) \(gone.descriptor.version)")
                logger.warning("plugin removed; its typed families are parked until a plugin serves them again", metadata: [
                    "event": "infra", "component": "plugins", "file": .string(path), "plugin": .string(gone.descriptor.name),
                    "version": .string(gone.descriptor.version.description), "families": .string(families),
                ])
            }
        }
        let now = unixNanos()
        var connection: PGConnection?
        defer { connection?.close() }
        for path in paths {
            guard let id = present[path], considered[path] != id else { continue }
            let age = now - id.modifiedNanos
            if age >= 0 && age < Int64(options.settleSeconds * 1e9) {
                retrySoon = true
                continue
            }
            switch consider(path, connection: &connection) {
            case .retry:
                retrySoon = true
            case .settled(let identity, let change):
                considered[path] = identity ?? id
                if let change { changes.append(change) }
            }
        }
        if dirty { commit() }
        if let reason {
            logger.info("plugins directory rescanned", metadata: [
                "event": "infra", "component": "plugins", "reason": .string(reason), "dir": .string(directory),
                "changes": .string(changes.isEmpty ? "none" : changes.joined(separator: "; ")),
                "active": .string(active.map { "\($0.descriptor.name)@\($0.descriptor.version)" }.joined(separator: ",")),
            ])
        }
        return retrySoon
    }

    enum Outcome {
        /// Look again at the next scan (the file is changing, or Postgres is unreachable).
        case retry
        /// Done with this version of the file (loaded or refused).
        case settled(PluginFileIdentity?, change: String?)
    }

    /// Loads one new or changed file and, if it is admissible, routes its families to it.
    private func consider(_ path: String, connection: inout PGConnection?) -> Outcome {
        let loaded: LoadedPlugin
        let identity: PluginFileIdentity
        do {
            (loaded, identity) = try PluginLoader.loadSnapshot(path: path)
        } catch {
            if error.reason == .fileChanging || error.reason == .notFound { return .retry }
            return .settled(nil, change: refuse(error))
        }
        let d = loaded.descriptor
        let sameName = active.first { $0.descriptor.name == d.name }
        let atPath = active.first { $0.path == path && $0.descriptor.name != d.name }
        if let current = sameName, current.descriptor.version >= d.version {
            return .settled(identity, change: refuse(PluginLoadError(
                path: path, reason: .versionNotNewer,
                detail: "plugin \(d.name) \(d.version) is not newer than the active \(current.descriptor.version) from \(current.path); the active version keeps serving (a downgrade needs a restart)")))
        }
        let staying = active.filter { $0.instance !== sameName?.instance && $0.instance !== atPath?.instance }
        do { try PluginRegistry(instances: staying.map(\.instance)).checkAdmissible(loaded) } catch {
            return .settled(identity, change: refuse(error))
        }
        switch ensureTables(loaded, connection: &connection) {
        case .retry: return .retry
        case .refused(let error): return .settled(identity, change: refuse(error))
        case .ready: break
        }
        let instance: PluginInstance
        do { instance = try loaded.instantiate(configJSON: config.plugins.configJSON(for: d.name), logger: logger) } catch {
            return .settled(identity, change: refuse(error))
        }
        refused[path] = nil
        let families = d.families.map { "\($0.name)@\($0.versions.lowerBound)-\($0.versions.upperBound)" }.joined(separator: ",")
        metrics.loadsTotal.add(1, ordering: .relaxed)
        if let atPath {
            retire(atPath.instance, reason: "replaced", by: "\(d.name) \(d.version)")
        }
        if let old = sameName {
            retire(old.instance, reason: "upgraded", by: "\(d.name) \(d.version) (\(path))")
            metrics.upgradesTotal.add(1, ordering: .relaxed)
            logger.info("plugin upgraded", metadata: [
                "event": "infra", "component": "plugins", "file": .string(path), "plugin": .string(d.name),
                "version": .string(d.version.description), "previous_version": .string(old.descriptor.version.description),
                "previous_file": .string(old.path), "families": .string(families),
            ])
        } else {
            logger.info("plugin loaded", metadata: [
                "event": "infra", "component": "plugins", "file": .string(path), "plugin": .string(d.name),
                "version": .string(d.version.description), "families": .string(families), "hot": "true",
            ])
        }
        active.append(ActivePlugin(instance: instance, path: path))
        dirty = true
        let verb = sameName == nil ? "added" : "upgraded"
        return .settled(identity, change: "\(verb) \(d.name) \(d.version)")
    }

    enum TablesOutcome {
        case ready
        case retry
        case refused(PluginLoadError)
    }

    /// Creates or evolves the typed tables of a plugin's families before any event is routed to
    /// it (the writers expect `md_<family>` to exist).
    private func ensureTables(_ plugin: LoadedPlugin, connection: inout PGConnection?) -> TablesOutcome {
        let typed = plugin.descriptor.families.filter(\.isTyped)
        guard !typed.isEmpty else { return .ready }
        if connection == nil {
            do { connection = try PGConnection(dsn: config.postgres.connectionDSN(forMigrations: true), logger: logger) } catch {
                logger.warning("plugin load waits for postgres (its family tables must exist first)", metadata: [
                    "event": "infra", "component": "plugins", "file": .string(plugin.path), "details": .string(error.message),
                ])
                return .retry
            }
        }
        for family in typed {
            do {
                let change = try FamilyTables.ensure(FamilyTableSpec(family), on: connection!)
                logger.info("family table ready", metadata: [
                    "event": "infra", "component": "store", "family": .string(family.name),
                    "table": .string(family.tableName), "change": .string("\(change)"),
                ])
            } catch {
                if case .database(_, let pgError) = error, pgError.kind == .connectivity {
                    connection?.close()
                    connection = nil
                    return .retry
                }
                return .refused(PluginLoadError(path: plugin.path, reason: .familyTableRefused, detail: "\(error)"))
            }
        }
        do { try FamilyTables.refreshEventsAllView(on: connection!) } catch {
            logger.error("events_all view refresh failed", metadata: ["event": "infra", "details": .string(error.description)])
        }
        return .ready
    }

    /// Logs and records a refused file; the kernel keeps running with what it has.
    private func refuse(_ error: PluginLoadError) -> String {
        refused[error.path] = error
        dirty = true
        metrics.refusedTotal.add(1, ordering: .relaxed)
        logger.error("plugin refused", metadata: [
            "event": "infra", "component": "plugins", "file": .string(error.path),
            "reason_code": .string(error.reasonCode), "details": .string(error.detail),
        ])
        return "refused \(error.path) (\(error.reasonCode))"
    }

    /// Takes an instance out of the active set. Its code stays mapped; the instance itself is
    /// released (and its `destroy` runs) once no processor holds a registry that routes to it.
    private func retire(_ instance: PluginInstance, reason: String, by: String?) {
        guard let index = active.firstIndex(where: { $0.instance === instance }) else { return }
        let gone = active.remove(at: index)
        quarantine.forget(instance)
        retired.append(.init(name: gone.descriptor.name, version: gone.descriptor.version.description, path: gone.path,
                             reason: reason, replacedBy: by, atUnixSeconds: Int64(unixNanos() / 1_000_000_000)))
        dirty = true
    }

    private func applyQuarantine(_ instance: PluginInstance, detail: String) {
        guard let index = active.firstIndex(where: { $0.instance === instance }), active[index].quarantined == nil else { return }
        active[index].quarantined = detail
        let d = instance.descriptor
        metrics.quarantinesTotal.add(1, ordering: .relaxed)
        logger.error("plugin quarantined; its typed families are parked until the file is replaced", metadata: [
            "event": "infra", "component": "plugins", "reason_code": "plugin_quarantined", "file": .string(active[index].path),
            "plugin": .string(d.name), "version": .string(d.version.description),
            "families": .string(d.families.map(\.name).joined(separator: ",")), "details": .string(detail),
        ])
        dirty = true
        commit()
    }

    /// Publishes the active set to the router (one atomic swap) and the status.
    private func commit() {
        dirty = false
        let serving = active.filter { $0.quarantined == nil }.map(\.instance)
        router.replace(PluginRegistry(instances: serving))
        updateGauges()
        publish()
    }

    private func updateGauges() {
        metrics.activePlugins.store(active.count { $0.quarantined == nil }, ordering: .relaxed)
        metrics.quarantinedPlugins.store(active.count { $0.quarantined != nil }, ordering: .relaxed)
        metrics.retiredPlugins.store(retired.count, ordering: .relaxed)
    }

    private func publish() {
        var status = PluginLifecycleStatus(directory: config.plugins.dir)
        status.pid = getpid()
        status.updatedAt = Int64(unixNanos() / 1_000_000_000)
        status.active = active.map {
            .init(name: $0.descriptor.name, version: $0.descriptor.version.description, path: $0.path,
                  families: $0.descriptor.families.map(\.name), quarantined: $0.quarantined)
        }
        status.retired = retired
        status.refused = refused.values.sorted { $0.path < $1.path }
            .map { .init(path: $0.path, reasonCode: $0.reasonCode, detail: $0.detail) }
        statusBox.withLock { $0 = status }
        if writesStatusFile { writeStatusFile(statusFilePath(config.plugins.dir), status.json) }
    }

    private func statusFilePath(_ directory: String) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + pluginStatusFileName
    }

    /// Written under a temporary name and renamed, so a reader never sees half a file.
    private func writeStatusFile(_ path: String, _ text: String) {
        let temp = path + ".\(getpid())-\(UInt(bitPattern: ObjectIdentifier(self).hashValue)).tmp"
        guard let file = fopen(temp, "w") else { return }
        let bytes = Array(text.utf8) + [0x0A]
        let ok = fwrite(bytes, 1, bytes.count, file) == bytes.count
        fclose(file)
        if ok { rename(temp, path) } else { unlink(temp) }
    }

    // MARK: processor threads

    /// A processor reports calls over budget; a repeat offender is quarantined on the lifecycle
    /// thread (the processor only records and wakes it).
    private func slowCall(_ call: SlowPluginCall) {
        guard quarantine.record(call.instance, count: call.timing.slowCalls, now: monotonicNanos()) else { return }
        let detail = "\(options.quarantineAfter) calls over plugins.call_budget_ms (\(call.budgetNanos / 1_000_000) ms) within \(Int(options.quarantineWindowSeconds)) s; slowest \(call.timing.slowestNanos / 1_000_000) ms (family \(call.family))"
        requests.withLock { $0.quarantines.append((call.instance, detail)) }
        watcher.wake()
    }
}
