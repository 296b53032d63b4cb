import ArgumentParser
import KernelConfig

/// `kernel config check --config F`: parses and validates a configuration the way `kernel run`
/// does, without connecting to anything, so a deployment can check a file before it restarts
/// the service.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a kernel configuration file.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report every problem of a configuration at once; exit 0 when there is none, 78 (EX_CONFIG) otherwise.")
        @OptionGroup var options: ConfigOption

        func run() throws {
            _ = try loadConfigOrExit(options.config)
            print("\(options.config): ok")
        }
    }
}
