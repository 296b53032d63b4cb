import ArgumentParser
import KernelPlugins
import KernelVersion

/// The `kernel` command line. `kernel --config F` is `kernel run --config F`.
@main
struct Kernel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Data Kernel: Redis Streams → normalizer plugins → Postgres.",
        // The release, the commit, and the toolchain Swift plugins must be built with
        // (Sources/KernelPlugins/HostToolchain.swift).
        version: "kernel \(KernelVersion.description)\n\(HostToolchain.line)",
        subcommands: [RunCommand.self, MigrateCommand.self, ConfigCommand.self, PluginsCommand.self, TokenCommand.self,
                      SpillCommand.self, DLQCommand.self, PartitionsCommand.self, AdminCommand.self,
                      DevCommand.self, PluginHostCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// The `--config` option shared by every command that reads the kernel configuration.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to the kernel YAML configuration.")
    var config: String = "./config/kernel.yaml"
}
