import ArgumentParser
import KernelVersion

/// The `kernel` command line. `kernel --config F` is `kernel run --config F`.
@main
struct Kernel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Data Kernel: Redis Streams → normalizer plugins → Postgres.",
        version: "kernel \(KernelVersion.description)",
        subcommands: [RunCommand.self, MigrateCommand.self, ConfigCommand.self, PluginsCommand.self, TokenCommand.self,
                      SpillCommand.self, DLQCommand.self, PartitionsCommand.self, AdminCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// The `--config` option shared by every command that reads the kernel configuration.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to the kernel YAML configuration.")
    var config: String = "./config/kernel.yaml"
}
