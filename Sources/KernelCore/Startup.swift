import KernelConfig
import KernelPlugins
import KernelPostgres
import KernelRedis
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Start-up steps shared by `kernel run`, `kernel migrate` and `kernel plugins list`: each one
/// either succeeds or throws a `StartupError` whose message names what failed.
public enum Startup {
    /// Connects to Postgres, retrying refused/unreachable servers up to 10 times with
    /// 200 ms + n·200 ms pauses (docs/operations.md, "Start-up"), so a kernel started together with its database waits.
    public static func connectPostgres(_ config: KernelConfig, logger: Logger) throws(StartupError) -> PGConnection {
        var attempt = 0
        while true {
            do {
                return try PGConnection(dsn: config.postgres.connectionDSN(forMigrations: true), logger: logger)
            } catch {
                attempt += 1
                guard error.kind == .connectivity, attempt < 10 else {
                    throw StartupError(step: "postgres", message: "cannot connect: \(error.message)")
                }
                logger.warning("postgres not reachable, retrying", metadata: [
                    "event": "infra", "component": "postgres", "attempt": "\(attempt)", "reason_code": .string(error.reasonCode),
                ])
                usleep(UInt32(200_000 + attempt * 200_000))
            }
        }
    }

    /// Applies pending migrations from `postgres.migrations_dir`.
    public static func migrate(_ connection: PGConnection, config: KernelConfig, logger: Logger) throws(StartupError) -> MigrationReport {
        do {
            return try Migrator(directory: config.postgres.migrationsDir, logger: logger).apply(on: connection)
        } catch {
            throw StartupError(step: "migrations", message: error.description)
        }
    }

    /// Loads the plugins of `directory` for start-up. Each plugin's typed tables are created or
    /// evolved before its `init` and before anything is routed to it, as a running kernel does
    /// with a new file: a plugin whose declaration its existing table cannot take (a retyped or
    /// dropped column, a new NOT NULL column …) is refused (`family_table_refused`, naming the
    /// family and column) and not routed, and the next lower version of it in the directory, if
    /// any, serves instead. Routing it anyway would stall the writers on a missing column or
    /// dead-letter every event. Then refreshes the `events_all` view. Returns the registry and
    /// the typed tables it writes to.
    public static func loadPlugins(directory: String, configJSON: (String) -> String, on connection: PGConnection,
                                   logger: Logger) throws(StartupError) -> (registry: PluginRegistry, typedTables: [String]) {
        var unreachable: PGError?
        let registry = PluginRegistry.load(directory: directory, logger: logger, configJSON: configJSON, prepare: { plugin throws(PluginLoadError) in
            for family in plugin.descriptor.families where family.isTyped {
                let spec = FamilyTableSpec(family)
                do throws(FamilyTableError) {
                    if let unreachable { throw FamilyTableError.database(family: family.name, error: unreachable) }
                    let change = try FamilyTables.ensure(spec, on: connection)
                    logger.info("family table ready", metadata: [
                        "event": "infra", "component": "store", "family": .string(family.name),
                        "table": .string(spec.tableName), "change": .string("\(change)"),
                    ])
                } catch {
                    if case .database(_, let pgError) = error, pgError.kind == .connectivity { unreachable = pgError }
                    throw PluginLoadError(path: plugin.path, reason: .familyTableRefused, detail: "\(error)")
                }
            }
        })
        // A table not made because Postgres went away is not the plugin's fault: start again.
        if let unreachable {
            throw StartupError(step: "postgres", message: "family tables: \(unreachable.message)")
        }
        do { try FamilyTables.refreshEventsAllView(on: connection) } catch {
            logger.error("events_all view refresh failed", metadata: ["event": "infra", "details": .string(error.description)])
        }
        return (registry, registry.servedFamilies.filter(\.family.isTyped).map(\.family.name))
    }

    /// Opens a Redis connection and checks it with PING (5 s timeout, docs/operations.md, "Start-up").
    public static func connectRedis(_ config: KernelConfig) throws(StartupError) -> any RedisClient {
        var settings = config.redisSettings
        settings.dialTimeoutMs = 5000
        settings.commandTimeoutMs = 5000
        let endpoint = settings.endpoint
        do throws(RedisError) {
            let redis = try settings.connectClient()
            let pong = try redis.command(["PING"])
            guard pong.text == "PONG" else {
                throw RedisError(kind: .reply, message: "PING answered \(pong)")
            }
            redis.setTimeout(ms: config.redis.readTimeoutMs)
            return redis
        } catch {
            throw StartupError(step: "redis", message: "\(endpoint.host):\(endpoint.port): \(error.message)")
        }
    }
}

/// A start-up step that failed; the kernel exits 1 with this message.
public struct StartupError: Error, Sendable, CustomStringConvertible {
    public let step: String
    public let message: String
    public init(step: String, message: String) { self.step = step; self.message = message }
    public var description: String { "\(step): \(message)" }
}
