import ArgumentParser
import KernelConfig
import KernelCore
import KernelPostgres
import KernelStore
import Logging

/// `kernel partitions …`: the storage tables' monthly partitions and their retention.
struct PartitionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partitions",
        abstract: "Inspect and maintain the monthly partitions of the event tables.",
        subcommands: [List.self, Maintain.self]
    )

    /// `kernel partitions list --config F`: every partition, its size, and what retention says.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the monthly partitions with their size and retention.")
        @OptionGroup var options: ConfigOption

        func run() throws {
            try withPostgres(options, command: "list") { config, pg, _ throws(PGError) in
                let policy = PartitionRetention(defaultMonths: config.retention.months, familyMonths: config.retention.families,
                                                tableFamilies: try PartitionCatalog.tableFamilies(on: pg))
                let current = try PartitionCatalog.currentMonth(on: pg)
                let partitions = try PartitionCatalog.partitions(on: pg)
                print(pad("partition", 28) + pad("month", 9) + pad("size", 11) + "retention")
                var total: Int64 = 0
                for partition in partitions {
                    total += partition.bytes
                    let kept = policy.months(forTable: partition.table).map { "\($0) months" } ?? "forever"
                    let state: String
                    if let month = partition.month {
                        state = policy.isExpired(table: partition.table, month: month, current: current)
                            ? "past retention (\(kept)): dropped at the next pass" : "kept (\(kept))"
                    } else {
                        state = "not a monthly partition: never dropped"
                    }
                    print(pad(partition.name, 28) + pad(partition.month?.description ?? "-", 9) + pad(bytes(partition.bytes), 11) + state)
                }
                print("\(partitions.count) partitions, \(bytes(total)); current month \(current)")
            }
        }
    }

    /// `kernel partitions maintain --config F`: one maintenance pass now, as the kernel does on
    /// its schedule.
    struct Maintain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create partitions ahead and drop those past retention now (as the running kernel does periodically).")
        @OptionGroup var options: ConfigOption

        func run() throws {
            try withPostgres(options, command: "maintain") { config, pg, logger throws(PGError) in
                let pass = try PartitionMaintenance.run(config.retention, on: pg, metrics: nil, logger: logger)
                guard pass.ran else {
                    print("another kernel is maintaining the partitions now; nothing done")
                    return
                }
                for partition in pass.dropped { print("dropped  \(partition.name)  \(bytes(partition.bytes))") }
                print("partitions: \(pass.created) created ahead, \(pass.dropped.count) dropped past retention")
            }
        }
    }
}

/// Runs `body` on a Postgres connection to the configured database; an error is printed as
/// `kernel partitions <command>: …` and exits 1.
private func withPostgres(_ options: ConfigOption, command: String,
                          _ body: (KernelConfig, PGConnection, Logger) throws(PGError) -> Void) throws {
    let config = try loadConfigOrExit(options.config)
    let logger = quietLogger()
    do throws(PGError) {
        let pg = try PGConnection(dsn: config.postgres.connectionDSN(), logger: logger)
        defer { pg.close() }
        try body(config, pg, logger)
    } catch {
        printError("kernel partitions \(command): \(error.message)")
        throw ExitCode(1)
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

/// Bytes in binary units, one decimal.
private func bytes(_ count: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) B" : "\((value * 10).rounded() / 10) \(units[unit])"
}
