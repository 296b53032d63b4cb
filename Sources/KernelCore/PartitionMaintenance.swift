import KernelConfig
import KernelMetrics
import KernelPostgres
import KernelStore
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the storage tables' monthly partitions: creates `retention.months_ahead` months ahead
/// (so a new month never starts with a batch waiting on DDL) and drops the partitions wholly
/// older than `retention` allows, at start and every `retention.check_interval_seconds`.
/// Every creation and drop is logged and counted.
///
/// With several kernels on one database, a session advisory lock lets one pass run at a time;
/// the others skip theirs.
public final class PartitionMaintenance: Sendable {
    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        /// False when another kernel held the maintenance lock (nothing was done).
        public var ran: Bool
        public var created: Int
        public var dropped: [PartitionCatalog.Partition]
    }

    private let config: KernelConfig
    private let metrics: KernelMetrics?
    private let logger: Logger
    private let stopped = Mutex(false)

    public init(config: KernelConfig, metrics: KernelMetrics?, logger: Logger) {
        self.config = config
        self.metrics = metrics
        self.logger = logger
    }

    /// Runs a pass now and then every interval on its own thread, until `stop()`.
    public func start() {
        DedicatedThread.start(name: "partitions") { [self] in
            while !stopped.withLock({ $0 }) {
                runLogged()
                sleepInterval()
            }
        }
    }

    public func stop() { stopped.withLock { $0 = true } }

    /// One pass on a fresh connection; failures are logged and retried at the next interval.
    func runLogged() {
        do {
            let pg = try PGConnection(dsn: config.postgres.connectionDSN(), logger: logger)
            defer { pg.close() }
            _ = try Self.run(config.retention, on: pg, metrics: metrics, logger: logger)
        } catch {
            logger.warning("partition maintenance failed; retried at the next interval", metadata: [
                "event": "infra", "component": "partitions", "reason_code": .string(error.reasonCode),
                "details": .string(error.message),
            ])
        }
    }

    /// One pass: create ahead, then drop what is past retention.
    public static func run(_ retention: KernelConfig.Retention, on pg: PGConnection, metrics: KernelMetrics?,
                           logger: Logger) throws(PGError) -> Pass {
        let lockKey = "hashtext('dk_partition_maintenance')"
        guard try pg.query("SELECT pg_try_advisory_lock(\(lockKey))::text").scalar == "true" else {
            logger.debug("partition maintenance skipped: another kernel holds it", metadata: ["event": "infra", "component": "partitions"])
            return Pass(ran: false, created: 0, dropped: [])
        }
        defer { _ = try? pg.query("SELECT pg_advisory_unlock(\(lockKey))") }

        let created = try FamilyTables.ensureAllMonthPartitions(monthsAhead: retention.monthsAhead, on: pg)
        if created > 0 {
            metrics?.partitionsCreatedTotal.increment(by: created)
            logger.info("partitions created ahead", metadata: [
                "event": "infra", "component": "partitions", "created": "\(created)", "months_ahead": "\(retention.monthsAhead)",
            ])
        }
        let tableFamilies = try PartitionCatalog.tableFamilies(on: pg)
        let policy = PartitionRetention(defaultMonths: retention.months, familyMonths: retention.families,
                                        tableFamilies: tableFamilies)
        let current = try PartitionCatalog.currentMonth(on: pg)
        var dropped: [PartitionCatalog.Partition] = []
        for partition in try PartitionCatalog.partitions(on: pg) {
            guard let month = partition.month, policy.isExpired(table: partition.table, month: month, current: current) else { continue }
            try PartitionCatalog.drop(partition, holdsEvents: partition.table == "events" || tableFamilies[partition.table] != nil,
                                      on: pg)
            dropped.append(partition)
            metrics?.partitionsDroppedTotal.increment()
            logger.info("partition dropped past retention", metadata: [
                "event": "infra", "component": "partitions", "table": .string(partition.table),
                "partition": .string(partition.name), "month": .string(month.description), "bytes": "\(partition.bytes)",
                "kept_months": "\(policy.months(forTable: partition.table) ?? 0)",
            ])
        }
        return Pass(ran: true, created: created, dropped: dropped)
    }

    /// Sleeps the check interval in slices of at most 200 ms, so `stop()` takes effect soon.
    private func sleepInterval() {
        var left = UInt64(config.retention.checkIntervalSeconds) * 1_000_000
        while left > 0 && !stopped.withLock({ $0 }) {
            let slice = min(left, 200_000)
            usleep(UInt32(slice))
            left -= slice
        }
    }
}
