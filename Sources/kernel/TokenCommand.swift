import ArgumentParser
import KernelAuth
import KernelConfig
import KernelCore
import KernelEvents
import KernelJSON
import KernelPostgres

#if canImport(Glibc)
import Glibc
#endif

/// `kernel token …`: producer tokens by hand (tests, operators).
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Producer tokens.",
        subcommands: [Issue.self]
    )

    /// `kernel token issue --config F --producer UUID [--subject UUID] [--ttl S] [--json]`: mints a
    /// token with the configured issuer key and records it in `producer_tokens`, so the kernel's
    /// database check (docs/protocol.md, "Tokens", step 3) accepts it.
    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a token for a producer with the configured issuer key and record it in producer_tokens.")
        @OptionGroup var options: ConfigOption
        @Option(help: "Producer id (UUID): the token's sub claim. The producer must exist.") var producer: String
        @Option(help: "Subject id (UUID): scopes the token to one subject (sid claim).") var subject: String?
        @Option(help: "Lifetime in seconds (default: auth.token_ttl_seconds).") var ttl: Int?
        @Flag(help: "Print {token, jti, exp, producer_id} as JSON instead of the bare token.") var json = false

        func validate() throws {
            guard EventUUID(producer) != nil else { throw ValidationError("--producer must be a UUID, got \"\(producer)\"") }
            if let subject, EventUUID(subject) == nil {
                throw ValidationError("--subject must be a UUID, got \"\(subject)\"")
            }
            if let ttl, ttl < 1 { throw ValidationError("--ttl must be at least 1 second") }
        }

        func run() throws {
            let config = try loadConfigOrExit(options.config)
            let issuer: TokenIssuer
            do {
                issuer = try TokenIssuer(settings: config.authSettings)
            } catch {
                printError("kernel token issue: cannot load the issuer key: \(error.message)")
                throw ExitCode(1)
            }
            let producerID = EventUUID(producer)!
            let issued = issuer.issue(producer: producerID, subject: subject.flatMap { EventUUID($0) },
                                      fingerprint: nil, ttlSeconds: ttl, nowSeconds: Int64(time(nil)))
            do {
                let pg = try PGConnection(dsn: config.postgres.connectionDSN(), logger: quietLogger())
                defer { pg.close() }
                try recordToken(issued, producer: producerID.description, notes: "cli", on: pg)
            } catch {
                if error.sqlState == "23503" {
                    printError("kernel token issue: unknown producer \(producerID) (no row in producers)")
                } else {
                    printError("kernel token issue: cannot record the token in producer_tokens: \(error.message)")
                }
                throw ExitCode(1)
            }
            if json {
                let object = JSONValue.object(JSONObject([
                    ("token", .string(issued.token)), ("jti", .string(issued.jti)),
                    ("exp", .string(issued.expRFC3339)), ("producer_id", .string(producerID.description)),
                ]))
                print(JSONWriter.serialize(object))
            } else {
                print(issued.token)
            }
        }
    }
}

/// Records a token the command line minted in `producer_tokens`; `notes` names the command.
func recordToken(_ issued: IssuedToken, producer: String, notes: String, on pg: PGConnection) throws(PGError) {
    _ = try pg.query("""
        INSERT INTO producer_tokens (token_id, producer_id, jti, issued_at, expires_at, notes)
        VALUES (gen_random_uuid(), $1::uuid, $2, to_timestamp($3::bigint), to_timestamp($4::bigint), $5)
        """, [producer, issued.jti, String(issued.issuedAt), String(issued.expiresAt), notes])
}
