import KernelPostgres
import KernelRedis
import Logging
import KernelRuntime
#if canImport(Glibc)
import Glibc
#endif

/// One OS thread that runs blocking hiredis/libpq work for the admin API, one job at a time, with
/// its own Redis and Postgres connections. HTTP handlers `await run { … }`: the event loops and the
/// Swift concurrency pool never block on a socket.
final class BlockingWorker: @unchecked Sendable {
    // @unchecked: `jobs`, `stopping` and `started` are guarded by `lock`; `connections` is used
    // on the worker thread only.
    /// The connections a job may use; opened on first use, dropped after an I/O error so the next
    /// job reconnects. Touched only on the worker thread.
    final class Connections {
        let redisSettings: RedisSettings
        let dsn: String
        let logger: Logger
        private var redisConnection: (any RedisClient)?
        private var pgConnection: PGConnection?

        /// `redisSettings`' timeouts bound connect and every command.
        init(redisSettings: RedisSettings, dsn: String, logger: Logger) {
            self.redisSettings = redisSettings
            self.dsn = dsn
            self.logger = logger
        }

        /// The Redis connection, connecting if needed.
        func redis() throws(RedisError) -> any RedisClient {
            if let redisConnection, redisConnection.isOpen { return redisConnection }
            let connection = try redisSettings.connectClient()
            redisConnection = connection
            return connection
        }

        /// Runs `body` with the Redis connection; an I/O error drops the connection.
        func withRedis<T>(_ body: (any RedisClient) throws(RedisError) -> T) throws(RedisError) -> T {
            do {
                return try body(try redis())
            } catch {
                if error.isConnectionLost { redisConnection?.close(); redisConnection = nil }
                throw error
            }
        }

        /// Runs `body` with the Postgres connection (connecting if needed); a connectivity error
        /// drops the connection.
        func withPostgres<T>(_ body: (PGConnection) throws(PGError) -> T) throws(PGError) -> T {
            do {
                if pgConnection == nil || pgConnection?.isConnected == false {
                    pgConnection?.close()
                    pgConnection = nil
                    pgConnection = try PGConnection(dsn: dsn, logger: logger)
                }
                return try body(pgConnection!)
            } catch {
                if error.kind == .connectivity || pgConnection?.isConnected == false {
                    pgConnection?.close()
                    pgConnection = nil
                }
                throw error
            }
        }

        /// Same settings, no open connections.
        func copy() -> Connections {
            Connections(redisSettings: redisSettings, dsn: dsn, logger: logger)
        }

        func close() {
            redisConnection?.close()
            redisConnection = nil
            pgConnection?.close()
            pgConnection = nil
        }
    }

    private let lock = ConditionLock()
    private var jobs: [(Connections) -> Void] = []
    private var stopping = false
    private var started = false
    private let connections: Connections
    private let name: String

    init(name: String, connections: Connections) {
        self.name = name
        self.connections = connections
    }

    /// Starts the thread (once).
    func start() {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { return }
        started = true
        DedicatedThread.start(name: name) { [self] in loop() }
    }

    /// Finishes queued jobs, closes the connections and ends the thread.
    func stop() {
        lock.lock()
        stopping = true
        lock.signal()
        lock.unlock()
    }

    /// Runs `body` on the worker thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (Connections) -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            enqueue { connections in continuation.resume(returning: body(connections)) }
        }
    }

    private func enqueue(_ job: @escaping (Connections) -> Void) {
        lock.lock()
        if stopping {
            lock.unlock()
            // After stop the job still runs (on the caller's thread, with its own connections,
            // closed right after) so no continuation is left hanging.
            let throwaway = connections.copy()
            job(throwaway)
            throwaway.close()
            return
        }
        jobs.append(job)
        lock.signal()
        lock.unlock()
    }

    private func loop() {
        while true {
            lock.lock()
            while jobs.isEmpty && !stopping { lock.wait() }
            if jobs.isEmpty && stopping {
                lock.unlock()
                connections.close()
                return
            }
            let job = jobs.removeFirst()
            lock.unlock()
            job(connections)
        }
    }
}
