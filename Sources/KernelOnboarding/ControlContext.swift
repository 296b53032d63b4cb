#if canImport(Glibc)
import Glibc
#endif
import KernelPostgres
import KernelRedis
import Logging

/// What a handler gets: the consumer thread's Redis connection, a lazily opened Postgres
/// connection, the settings and a clock. Confined to the consumer's thread (not Sendable).
public final class ControlContext {
    /// The consumer's Redis connection (also used for XREADGROUP/XACK; calls are sequential).
    public internal(set) var redis: any RedisClient
    /// `redis.key_prefix` (`P`).
    public let keyPrefix: String
    public let settings: OnboardingSettings
    public let logger: Logger
    /// Unix seconds; injectable for tests.
    public let now: () -> Int64
    /// Counters shared by every handler of one service.
    public let metrics: OnboardingMetrics

    private var connection: PGConnection?
    private let openPostgres: () -> Result<PGConnection, PGError>

    /// - Parameters:
    ///   - postgres: opens a new connection when needed (default: `settings.postgresDSN`).
    public init(redis: any RedisClient, settings: OnboardingSettings, logger: Logger,
                metrics: OnboardingMetrics = OnboardingMetrics(),
                now: @escaping () -> Int64 = ControlContext.wallClockSeconds,
                postgres: (() -> Result<PGConnection, PGError>)? = nil) {
        self.redis = redis
        self.settings = settings
        self.keyPrefix = settings.keyPrefix
        self.logger = logger
        self.metrics = metrics
        self.now = now
        let dsn = settings.postgresDSN
        let pgLogger = logger
        self.openPostgres = postgres ?? {
            do throws(PGError) { return .success(try PGConnection(dsn: dsn, logger: pgLogger)) } catch { return .failure(error) }
        }
    }

    deinit { connection?.close() }

    /// The Postgres connection, opened on first use and reopened when the previous one broke
    /// (after a connectivity error libpq reports the connection as bad).
    public func postgres() throws(PGError) -> PGConnection {
        if let connection, connection.isConnected { return connection }
        connection?.close()
        connection = nil
        let fresh = try openPostgres().get()
        connection = fresh
        return fresh
    }

    /// Drops the Postgres connection so the next `postgres()` opens a new one. Call after a
    /// `.connectivity` error the connection itself may not have noticed (a timeout).
    public func discardPostgres(after error: PGError) {
        guard error.kind == .connectivity else { return }
        connection?.close()
        connection = nil
    }

    /// `P + suffix`.
    public func key(_ suffix: String) -> String { keyPrefix + suffix }

    /// The wall clock in Unix seconds.
    public static func wallClockSeconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec)
    }
}
