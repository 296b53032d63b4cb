import ArgumentParser
import KernelConfig
import KernelCore
import KernelLogging
import KernelLifecycle
import KernelRedis
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `kernel run --config F` (also `kernel --config F`): the daemon, in the foreground.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the kernel daemon in the foreground.")
    @OptionGroup var options: ConfigOption

    func run() throws {
        // Catch SIGTERM/SIGINT before anything starts, so a signal always means "drain and exit 0".
        Daemon.installShutdownHandlers()
        let config = try loadConfigOrExit(options.config)
        let (logger, sink) = try LoggingSetup.bootstrap(config.logging)
        let notifier = ServiceNotifier(environment: ProcessEnvironment.current())
        let daemon = Daemon(config: config, logger: logger)
        do {
            try daemon.start()
        } catch {
            logger.critical("kernel start failed", metadata: [
                "event": "infra", "component": "kernel", "stage": .string(error.step), "details": .string(error.message),
            ])
            sink.flushAndClose()
            printError("kernel: start failed: \(error)")
            throw ExitCode(1)
        }
        // SIGHUP re-reads plugins.dir and the plugins section of the config (docs/plugins.md).
        if let lifecycle = daemon.pluginLifecycle {
            let path = options.config
            ShutdownSignal.onReload { lifecycle.reload(reason: "sighup", configPath: path) }
        }
        // Ready means what /readyz means at start: every consumer runs and the listener is bound.
        notify(notifier, "READY=1\nSTATUS=serving", logger: logger)
        notifier.startWatchdog()
        _ = daemon.waitForShutdownSignal()
        notify(notifier, "STOPPING=1\nSTATUS=draining", logger: logger)
        daemon.stop()
        logger.info("kernel stopped", metadata: ["event": "infra", "component": "kernel"])
        notifier.stopWatchdog()
        sink.flushAndClose()
    }

    /// Sends a state to systemd; a lost notification is logged (systemd then times the unit out).
    private func notify(_ notifier: ServiceNotifier, _ state: String, logger: Logger) {
        guard notifier.isActive, !notifier.notify(state) else { return }
        logger.warning("systemd notification not delivered", metadata: [
            "event": "infra", "component": "kernel", "details": .string(state.split(separator: "\n").joined(separator: " ")),
        ])
    }
}

/// `kernel migrate --config F`: apply pending migrations and exit.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations, in order, once each.")
    @OptionGroup var options: ConfigOption

    func run() throws {
        let config = try loadConfigOrExit(options.config)
        let logger = quietLogger()
        do {
            let pg = try Startup.connectPostgres(config, logger: logger)
            defer { pg.close() }
            let report = try Startup.migrate(pg, config: config, logger: logger)
            for file in report.applied { print("applied  \(file)") }
            print("migrations: \(report.applied.count) applied, \(report.skipped.count) already applied")
        } catch {
            printError("kernel migrate: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Loads the configuration or exits 78 (EX_CONFIG) with every problem listed, each naming its key.
func loadConfigOrExit(_ path: String) throws -> KernelConfig {
    do {
        return try KernelConfig.load(path: path, support: RedisTLSSupport.buildSupport)
    } catch {
        printError("kernel: invalid configuration \(path):\n\(error)")
        throw ExitStatus.badConfig
    }
}
