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
    /// 200 ms + n·200 ms pauses (SPEC §12), so a kernel started together with its database waits.
    public static func connectPostgres(_ config: KernelConfig, logger: Logger) throws(StartupError) -> PGConnection {
        var attempt = 0
        while true {
            do {
                return try PGConnection(dsn: config.postgres.dsn, logger: logger)
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

    /// Creates or extends the typed table of every family a loaded plugin declares columns for,
    /// then refreshes the `events_all` view. A family whose declaration is incompatible with its
    /// existing table is reported and left generic; the others go on.
    public static func ensureFamilyTables(_ registry: PluginRegistry, on connection: PGConnection, logger: Logger)
        -> (ready: [String], refused: [String: String])
    {
        var ready: [String] = []
        var refused: [String: String] = [:]
        for served in registry.servedFamilies where served.family.isTyped {
            let spec = FamilyTableSpec(served.family)
            do {
                let change = try FamilyTables.ensure(spec, on: connection)
                ready.append(served.family.name)
                logger.info("family table ready", metadata: [
                    "event": "infra", "component": "store", "family": .string(served.family.name),
                    "table": .string(spec.tableName), "change": .string("\(change)"),
                ])
            } catch {
                refused[served.family.name] = "\(error)"
                logger.error("family table refused", metadata: [
                    "event": "infra", "component": "store", "family": .string(served.family.name),
                    "plugin": .string(served.path), "details": .string("\(error)"),
                ])
            }
        }
        do { try FamilyTables.refreshEventsAllView(on: connection) } catch {
            logger.error("events_all view refresh failed", metadata: ["event": "infra", "details": .string(error.description)])
        }
        return (ready, refused)
    }

    /// Opens a Redis connection and checks it with PING (5 s timeout, SPEC §12).
    public static func connectRedis(_ config: KernelConfig) throws(StartupError) -> any RedisClient {
        var settings = RedisSettings(config)
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
