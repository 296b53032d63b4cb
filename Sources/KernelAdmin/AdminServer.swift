import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KernelAuth
import KernelMetrics
import KernelRedis
import KernelSSH
import Logging
import NIOCore
import NIOSSL
import KernelRuntime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The admin listener (docs/admin.md): `/metrics`, `/healthz`, `/readyz`, `/auth`, `/auth/review`,
/// `/auth/revoke` on `server.listen`, over HTTPS with required client certificates when
/// `server.tls` is set.
///
/// Blocking Redis/Postgres work runs on two dedicated threads with their own connections (one for
/// admin operations, one for readiness probes), never on the event loops. Use `start()`/`stop()`
/// from async code, or `startBlocking()`/`stopBlocking()` from the thread-based daemon.
public final class AdminServer: @unchecked Sendable {
    // @unchecked: `task` and `port` are guarded by `lock`; everything else is immutable.
    private let settings: AdminSettings
    private let metrics: KernelMetrics
    private let logger: Logger
    private let spillState: @Sendable () -> String?
    private let degradedState: @Sendable () -> String?
    private let beforeScrape: @Sendable () -> Void
    private let operationsWorker: BlockingWorker
    private let probeWorker: BlockingWorker
    private let adminCA: SSHPublicKey?
    private let now: @Sendable () -> Int64
    /// Where a revocation is recorded before its answer (the daemon's ingest reads it).
    private let revocations: IngestRevocations?
    /// Runs the server's tasks off Swift's cooperative pool (see `DedicatedTaskExecutor`).
    private let executor = DedicatedTaskExecutor(name: "dk-admin")

    private let lock = ConditionLock()
    private var task: Task<Void, any Error>?
    /// The listening socket, closed first by `stop()` (see there).
    private var listener: (any Channel)?
    private var port: Int?

    /// - Parameters:
    ///   - settings: the listener, its TLS, the admin certificate checks, Redis and Postgres.
    ///   - metrics: rendered at `/metrics`; admin counters are incremented here.
    ///   - spillState: non-nil while the daemon is spilling (e.g. `"postgres unreachable"`), shown by `/readyz`.
    ///   - degradedState: non-nil while part of ingest waits (families parked), shown by `/readyz`.
    ///   - beforeScrape: called before each `/metrics` render, so the daemon can push counter deltas.
    ///   - now: Unix seconds (certificate validity); tests may inject a clock.
    ///   - revocations: the daemon's record of revocations, which its ingest applies before the
    ///     next chunk; `/auth/revoke` records there before answering. Nil without an ingest pipeline.
    public init(settings: AdminSettings, metrics: KernelMetrics, logger: Logger,
                revocations: IngestRevocations? = nil,
                spillState: @escaping @Sendable () -> String? = { nil },
                degradedState: @escaping @Sendable () -> String? = { nil },
                beforeScrape: @escaping @Sendable () -> Void = {},
                now: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) {
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.spillState = spillState
        self.degradedState = degradedState
        self.beforeScrape = beforeScrape
        self.now = now
        self.revocations = revocations
        func connections(timeoutMs: Int, connectTimeoutSeconds: Int) -> BlockingWorker.Connections {
            var redis = settings.redis
            redis.dialTimeoutMs = timeoutMs
            redis.commandTimeoutMs = timeoutMs
            return BlockingWorker.Connections(redisSettings: redis,
                                       dsn: Self.dsn(settings.postgresDSN, connectTimeoutSeconds: connectTimeoutSeconds),
                                       logger: logger)
        }
        operationsWorker = BlockingWorker(name: "admin-ops",
                                          connections: connections(timeoutMs: max(settings.redisReadTimeoutMs, 1000), connectTimeoutSeconds: 5))
        // libpq's connect_timeout has a floor of 2 s; Redis gets the ~1 s of docs/admin.md, "Readiness".
        probeWorker = BlockingWorker(name: "admin-probe", connections: connections(timeoutMs: 1000, connectTimeoutSeconds: 2))
        if let text = settings.adminSSHCA {
            switch SSHPublicKey.load(configValue: text) {
            case .success(let key): adminCA = key
            case .failure(let error):
                adminCA = nil
                logger.error("admin_ca_unusable", metadata: [
                    "event": "admin", "component": "admin_api", "action": "configure", "outcome": "failure",
                    "reason_code": .string(error.reason.rawValue), "details": .string(error.description),
                ])
            }
        } else {
            adminCA = nil
        }
    }

    /// The bound TCP port once started (the real one when `server.listen` asked for port 0).
    public var boundPort: Int? {
        lock.lock()
        defer { lock.unlock() }
        return port
    }

    /// Binds and starts serving; returns once the listener is bound. Throws if binding fails or
    /// the TLS files cannot be loaded.
    public func start() async throws {
        operationsWorker.start()
        probeWorker.start()
        let server = try makeServerBuilder()
        let listen = settings.listen
        let host = listen.host.isEmpty ? "0.0.0.0" : listen.host
        let (bound, boundContinuation) = AsyncStream<(port: Int, channel: any Channel)>.makeStream()
        let responder = makeResponder()
        let app = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: listen.port), serverName: nil),
            onServerRunning: { channel in
                boundContinuation.yield((channel.localAddress?.port ?? listen.port, channel))
                boundContinuation.finish()
            },
            logger: Self.quiet(logger))
        let task = Task(executorPreference: executor) {
            defer { boundContinuation.finish() }
            try await app.run()
        }
        var iterator = bound.makeAsyncIterator()
        guard let (port, listener) = await iterator.next() else {
            // The server ended before binding: surface its error.
            try await task.value
            throw AdminServerError(message: "the admin listener stopped before binding \(listen)")
        }
        lock.lock()
        self.task = task
        self.listener = listener
        self.port = port
        lock.unlock()
        logger.info("admin_listening", metadata: [
            "event": "admin", "component": "admin_api", "action": "start", "outcome": "success",
            "target": .string("\(host):\(port)"), "details": .string(settings.tls == nil ? "http" : "https, client certificates required"),
        ])
    }

    /// Stops accepting, ends the server and the worker threads.
    ///
    /// The listening socket is closed first and the server task cancelled only after its event
    /// loop has handled the close: Hummingbird's accept loop then ends normally, where
    /// cancelling it while it waits logs "Waiting on child channel: CancellationError()" at
    /// error level on every clean stop. (Its graceful shutdown is no alternative here: it
    /// resumes on Swift's global pool, which callers blocked in `stopBlocking()` may occupy.)
    public func stop() async {
        lock.lock()
        let task = self.task
        let listener = self.listener
        self.task = nil
        self.listener = nil
        lock.unlock()
        if let listener {
            try? await listener.close().get()
            // channelInactive, which ends the accept loop, runs on the loop after the close promise.
            try? await listener.eventLoop.submit {}.get()
        }
        task?.cancel()
        _ = try? await task?.value
        operationsWorker.stop()
        probeWorker.stop()
    }

    /// `start()` for synchronous callers: blocks the calling thread until the listener is bound.
    public func startBlocking() throws {
        let outcome = BlockingResult<Void>()
        Task(executorPreference: executor) {
            do {
                try await self.start()
                outcome.set(.success(()))
            } catch {
                outcome.set(.failure(error))
            }
        }
        try outcome.wait().get()
    }

    /// `stop()` for synchronous callers.
    public func stopBlocking() {
        let outcome = BlockingResult<Void>()
        Task(executorPreference: executor) {
            await self.stop()
            outcome.set(.success(()))
        }
        _ = outcome.wait()
    }

    // MARK: Wiring

    private func makeResponder() -> AdminResponder {
        let authenticator = AdminAuthenticator(
            policy: CertificatePolicy.admin(caKey: adminCA, principal: settings.adminPrincipal,
                                            skewSeconds: UInt64(max(settings.skewSeconds, 0))),
            adminPrincipal: settings.adminPrincipal,
            allowedSubjects: settings.adminAllowedSubjects,
            tlsEnabled: settings.tls != nil,
            keyPrefix: settings.keyPrefix,
            metrics: metrics,
            worker: operationsWorker,
            now: now)
        let handlers = AdminHandlers(worker: operationsWorker, keyPrefix: settings.keyPrefix,
                                     responseTTLSeconds: settings.responseTTLSeconds, revocations: revocations,
                                     logger: logger)
        return AdminResponder(authenticator: authenticator, handlers: handlers,
                              readiness: ReadinessProbe(worker: probeWorker, spillState: spillState, degradedState: degradedState),
                              metrics: metrics, tlsEnabled: settings.tls != nil, beforeScrape: beforeScrape,
                              logger: logger)
    }

    /// HTTP/1.1, or TLS ≥ 1.2 with client certificates verified against `client_ca_file`.
    /// Verification is "optional" at the handshake so a request without a certificate reaches
    /// the handler, is counted (`kernel_admin_mtls_denied_total`), logged and answered 401; a
    /// certificate that is presented must verify or the handshake fails.
    private func makeServerBuilder() throws -> HTTPServerBuilder {
        guard let tls = settings.tls else { return .http1() }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = .optionalVerification
            configuration.trustRoots = .file(tls.clientCAFile)
            return try .tls(.http1(), tlsConfiguration: configuration)
        } catch {
            throw AdminServerError(message: "cannot load server.tls files: \(error)")
        }
    }

    /// Adds `connect_timeout` to a libpq connection string unless it already has one.
    static func dsn(_ dsn: String, connectTimeoutSeconds: Int) -> String {
        if dsn.contains("connect_timeout") { return dsn }
        if dsn.hasPrefix("postgres://") || dsn.hasPrefix("postgresql://") {
            return dsn + (dsn.contains("?") ? "&" : "?") + "connect_timeout=\(connectTimeoutSeconds)"
        }
        return dsn + " connect_timeout=\(connectTimeoutSeconds)"
    }

    /// Hummingbird's own request logs stay at warning: the admin API logs its own lines.
    static func quiet(_ logger: Logger) -> Logger {
        var logger = logger
        if logger.logLevel < .warning { logger.logLevel = .warning }
        return logger
    }
}

/// The admin listener could not start.
public struct AdminServerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A value handed from an async task to a blocked thread.
final class BlockingResult<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    private let ready = Semaphore()

    init() {}

    func set(_ result: Result<T, any Error>) {
        value.withLock { $0 = result }
        ready.signal()
    }

    /// Waits for `set`; every later call returns the same result at once.
    func wait() -> Result<T, any Error> {
        ready.wait()
        ready.signal()
        return value.withLock { $0! }
    }
}
