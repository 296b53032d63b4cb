import ArgumentParser
import KernelPlugins

/// The `kernel` command line. `kernel --config F` is `kernel run --config F`.
@main
struct Kernel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Data Kernel: Redis Streams → normalizer plugins → Postgres.",
        // The toolchain line: Swift plugins must be built with it (Sources/KernelPlugins/HostToolchain.swift).
        version: "kernel \(HostToolchain.line)",
        subcommands: [RunCommand.self, MigrateCommand.self, PluginsCommand.self, TokenCommand.self, SpillCommand.self, DLQCommand.self, AdminCommand.self,
                      DevCommand.self, PluginHostCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// The `--config` option shared by every command that reads the kernel configuration.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to the kernel YAML configuration.")
    var config: String = "./config/kernel.yaml"
}
