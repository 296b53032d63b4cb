import ArgumentParser
import KernelAdmin
import KernelAuth
import KernelConfig

/// `kernel admin …`: the operator's client for the admin API (docs/admin.md). Needs no kernel config:
/// only the API URL and the admin's OpenSSH key and certificate.
struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Review producer registrations and revoke tokens through the admin API.",
        subcommands: [Pending.self, Producers.self, Approve.self, Deny.self, Revoke.self]
    )

    /// Connection and identity options shared by every admin subcommand.
    struct Connection: ParsableArguments {
        @Option(help: "Admin API base URL (http:// or https://).") var url = "http://127.0.0.1:7600"
        @Option(help: "OpenSSH Ed25519 private key of the admin (unencrypted).") var key: String
        @Option(help: "OpenSSH certificate of that key (default: <key>-cert.pub).") var cert: String?
        @Option(help: "Principal to act as (sent as X-SSH-Principal; must be in the certificate).") var principal: String?
        @Option(name: .customLong("tls-ca"), help: "HTTPS: PEM CA bundle that signed the server certificate.") var tlsCA: String?
        @Option(name: .customLong("tls-cert"), help: "HTTPS: PEM client certificate (the server requires one).") var tlsCert: String?
        @Option(name: .customLong("tls-key"), help: "HTTPS: PEM private key of --tls-cert.") var tlsKey: String?
        @Option(help: "Seconds to wait for the server.") var timeout: Int64 = 10
        @Flag(help: "Print the server's JSON instead of a table.") var json = false

        func validate() throws {
            guard AdminClient.BaseURL(url) != nil else { throw ValidationError("--url must be http://host:port or https://host:port") }
            if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
            if timeout < 1 { throw ValidationError("--timeout must be at least 1") }
        }

        /// The core with a loaded key and certificate, or exit 1 with a message.
        func core() throws -> AdminCommandCore {
            let privateKey: Ed25519PrivateKey
            do {
                privateKey = try Ed25519PrivateKey(openSSHFile: key)
            } catch {
                printError("kernel admin: cannot load --key \(key): \(error.message)")
                throw ExitCode(1)
            }
            let certPath = cert ?? key + "-cert.pub"
            let certificate: String
            do {
                certificate = try KernelConfig.readSecretFile(certPath)
            } catch {
                printError("kernel admin: cannot read the certificate \(certPath): \(error)")
                throw ExitCode(1)
            }
            let signer = AdminRequestSigner(key: privateKey, certificateLine: certificate, principal: principal)
            let client = AdminClient(baseURL: AdminClient.BaseURL(url)!, signer: signer,
                                     tls: AdminClient.TLSOptions(caFile: tlsCA, certFile: tlsCert, keyFile: tlsKey),
                                     timeoutSeconds: timeout)
            return AdminCommandCore(client: client)
        }

        /// Runs one request and prints its result; a non-2xx answer exits 1.
        func run(_ body: @escaping @Sendable (AdminCommandCore) async throws -> AdminCommandCore.Output) throws {
            let core = try core()
            let output: AdminCommandCore.Output
            do {
                output = try AdminCommandCore.blocking { try await body(core) }
            } catch {
                printError("kernel admin: request to \(url) failed: \(error)")
                throw ExitCode(1)
            }
            if json && !output.body.isEmpty {
                print(output.body)
            } else {
                print(output.table, terminator: "")
            }
            if !output.success { throw ExitCode(1) }
        }
    }

    /// `kernel admin pending`: registrations waiting for review.
    struct Pending: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registrations waiting for review (newest first, max 100).")
        @OptionGroup var connection: Connection
        func run() throws { try connection.run { try await $0.pending() } }
    }

    /// `kernel admin producers [--filter all|registered|active] [--long]`.
    struct Producers: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List producers with their key and token status.")
        @OptionGroup var connection: Connection
        @Option(help: "all, registered (has a key) or active (has a live token).") var filter = "registered"
        @Flag(help: "Add the approved key and the newest token.") var long = false
        func validate() throws {
            guard ["all", "registered", "active"].contains(filter) else {
                throw ValidationError("--filter must be all, registered or active")
            }
        }
        func run() throws {
            let filter = filter, long = long
            try connection.run { try await $0.producers(filter: filter, long: long) }
        }
    }

    /// `kernel admin approve --producer UUID --fingerprint FP [--notes TEXT]`.
    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a pending key: a new producer's first key, or a rotation (the old key is superseded).")
        @OptionGroup var connection: Connection
        @Option(help: "Producer id (UUID) the key is bound to.") var producer: String
        @Option(help: "Fingerprint of the pending key (from `kernel admin pending`).") var fingerprint: String
        @Option(help: "Notes (a new producer's description).") var notes: String?
        func run() throws {
            let producer = producer, fingerprint = fingerprint, notes = notes
            try connection.run { try await $0.approve(producerID: producer, fingerprint: fingerprint, notes: notes) }
        }
    }

    /// `kernel admin deny --producer UUID --fingerprint FP --reason TEXT`.
    struct Deny: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny (revoke) a key; its pending registrations are rejected.")
        @OptionGroup var connection: Connection
        @Option(help: "Producer id (UUID).") var producer: String
        @Option(help: "Fingerprint of the key.") var fingerprint: String
        @Option(help: "Why (required; stored with the key and the rejected registrations).") var reason: String
        func run() throws {
            let producer = producer, fingerprint = fingerprint, reason = reason
            try connection.run { try await $0.deny(producerID: producer, fingerprint: fingerprint, reason: reason) }
        }
    }

    /// `kernel admin revoke --jti JTI [--reason TEXT]`.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a producer token by its jti.")
        @OptionGroup var connection: Connection
        @Option(help: "The token's jti (ULID).") var jti: String
        @Option(help: "Why (stored in revoked_tokens).") var reason: String?
        func run() throws {
            let jti = jti, reason = reason
            try connection.run { try await $0.revoke(jti: jti, reason: reason) }
        }
    }
}
