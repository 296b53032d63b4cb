import ArgumentParser
import KernelAuth
import KernelConfig
import KernelCore
import KernelEvents
import KernelOnboarding
import KernelPlugins
import KernelPostgres

#if canImport(Glibc)
import Glibc
#endif

/// `kernel dev …`: shortcuts for a development deployment (`server.deployment: development`) so a
/// plugin author sees their first rows in a minute. Production uses the certificate flow
/// (docs/producers.md); these commands refuse to run anywhere else.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Development shortcuts (server.deployment: development only).",
        subcommands: [Producer.self]
    )

    /// `kernel dev producer --config F --family F [--subjects N] [--name NAME]`.
    struct Producer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a producer, bind subjects of a family and print a token, without the certificate flow.",
            discussion: "Only when the config says server.deployment: development. Production uses the certificate flow (docs/producers.md).")
        @OptionGroup var options: ConfigOption
        @Option(help: "The family (schema name) to bind the subjects to.") var family: String
        @Option(help: "How many subjects to bind.") var subjects: Int = 1
        @Option(help: "Producer name; reused when it exists. Subjects are NAME-FAMILY-1 … NAME-FAMILY-N.") var name: String = "dev"
        @Option(help: "Token lifetime in seconds (default: auth.token_ttl_seconds).") var ttl: Int?

        func validate() throws {
            guard Grammar.isFamilyName(family) else { throw ValidationError("--family must match \(Grammar.familyNamePattern)") }
            guard (1...1000).contains(subjects) else { throw ValidationError("--subjects must be 1...1000") }
            guard !name.isEmpty, name.utf8.count <= 64 else { throw ValidationError("--name must be 1...64 bytes") }
        }

        func run() throws {
            let config = try loadConfigOrExit(options.config)
            guard config.server.deployment == .development else {
                printError("""
                    kernel dev producer: refused: \(options.config) says server.deployment: \(config.server.deployment.rawValue).
                    This shortcut skips producer certificates and admin approval, so it runs only where the config says
                    server.deployment: development. Production uses the certificate flow (docs/producers.md).
                    """)
                throw ExitCode(1)
            }
            let issuer: TokenIssuer
            do { issuer = try TokenIssuer(settings: config.authSettings) } catch {
                printError("kernel dev producer: cannot load the issuer key: \(error.message)")
                throw ExitCode(1)
            }
            // The families the plugins in plugins.dir serve, to bind and check as register would.
            let registry = PluginRegistry.load(directory: config.plugins.dir, logger: quietLogger(),
                                               configJSON: { config.pluginConfigJSON(for: $0) })
            let families = registry.servedFamilies.map(\.family)
            if !families.contains(where: { $0.name == family }) {
                printError("note: no plugin in \(config.plugins.dir) serves family \(family): its events are stored as generic JSON")
            }
            let pg: PGConnection
            do { pg = try PGConnection(dsn: config.postgres.connectionDSN(), logger: quietLogger()) } catch {
                printError("kernel dev producer: cannot connect to Postgres: \(error.message)")
                throw ExitCode(1)
            }
            defer { pg.close() }
            let created: DevelopmentProducer.Created
            do {
                created = try DevelopmentProducer.create(pg: pg, producerName: name, family: family, count: subjects, families: families)
            } catch {
                printError("kernel dev producer: \(error.message)")
                throw ExitCode(1)
            }
            let issued = issuer.issue(producer: EventUUID(created.producerID)!, subject: nil, fingerprint: nil,
                                      ttlSeconds: ttl, nowSeconds: Int64(time(nil)))
            do {
                try recordToken(issued, producer: created.producerID, notes: "kernel dev producer", on: pg)
            } catch {
                printError("kernel dev producer: cannot record the token: \(error.message)")
                throw ExitCode(1)
            }
            print("producer   \(name)  \(created.producerID)")
            for s in created.subjects {
                print("subject    \(s.key)  \(s.id)  \(family) v\(s.schemaVersion)")
            }
            print("token      \(issued.token)")
            print("expires    \(issued.expRFC3339)")
            let stream = config.redis.streamKey
            print("")
            print("publish (development only; production producers use the certificate flow, docs/producers.md):")
            print("  redis-cli -p \(config.redis.addr.port) XADD \(stream) '*' token \"$TOKEN\" payload "
                + "'{\"event_id\":\"<uuid>\",\"ts\":\"<RFC 3339 now>\",\"subject_id\":\"\(created.subjects[0].id)\",\"payload\":{…}}'")
        }
    }
}
