import ArgumentParser
import Foundation
import KernelEvents

/// An example producer: onboards itself with the kernel and publishes simulated market data.
/// Read it top to bottom as a walkthrough of docs/producers.md.
@main
struct ProducerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producer-example",
        abstract: "Register with a Data Kernel, get a token, register subjects and publish market data.")

    @Option(help: "Redis address, host:port (with --cluster: any node of the cluster).") var redis = "127.0.0.1:6379"
    @Flag(help: "The Redis address is a seed node of a Redis Cluster (the kernel's redis.cluster).") var cluster = false
    @Option(help: "The kernel's redis.shards: events go to the shard stream of their subject.") var shards = 1
    @Option(help: "The kernel's redis.key_prefix.") var prefix = "fdc:"
    @Option(help: "OpenSSH Ed25519 private key (unencrypted).") var key: String
    @Option(help: "Certificate of the key signed by the producer CA (default: <key>-cert.pub).") var cert: String?
    @Option(help: "Producer name asked for at registration (producer_hint).") var name = "example-producer"
    @Option(help: "Contact shown to the admin who approves the key.") var contact = "ops@example.test"
    @Option(help: "Events per second, all families together.") var rate = 100.0
    @Option(help: "Stop after this many seconds of publishing (default: until SIGINT).") var seconds: Double?
    @Option(help: "Families to publish, comma-separated.") var families = "trade,quote,book,bar"
    @Option(help: "Venue of the simulated instrument.") var venue = "XNAS"
    @Option(help: "Symbol of the simulated instrument.") var symbol = "AAPL"
    @Option(help: "Renew the token when fewer than this many seconds are left.") var renewMargin = 300

    func validate() throws {
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard (1...1024).contains(shards) else { throw ValidationError("--shards must be in 1...1024, like redis.shards") }
        guard parsedFamilies() != nil else {
            throw ValidationError("--families takes a comma-separated list of \(MarketFamily.allCases.map(\.rawValue))")
        }
    }

    func run() throws {
        let stop = StopSignal()
        do {
            try produce(stop: stop)
        } catch where error.code == .interrupted {
            Console.say("stopped before publishing: \(error.message)")
        } catch {
            Console.say("error: \(error)")
            throw ExitCode.failure
        }
    }

    private func produce(stop: StopSignal) throws(ProducerError) {
        let log: (String) -> Void = Console.say
        let identity = try ProducerIdentity(keyPath: key, certPath: cert ?? key + "-cert.pub")
        let channel = try ControlChannel(address: redis, prefix: prefix, cluster: cluster)
        let onboarding = OnboardingClient(channel: channel, identity: identity, stop: stop, log: log)

        // 1. Register the key; a new key waits here until an admin approves it.
        let producerID = try onboarding.register(hint: name, contact: contact, meta: ["example": "swift"])
        Console.say("approved producer_id=\(producerID)")

        // 2. Exchange the certificate for a token (valid auth.token_ttl_seconds, 1 h by default).
        let token = try onboarding.exchangeToken(producerID: producerID)
        Console.say("token received, expires at \(token.expiresAt)")

        // 3. Register one subject per family; events name the subject, the subject names the schema.
        //    With --shards N, a subject's events all go to one shard stream, picked from its id.
        var subjects: [Publisher.Subject] = []
        for family in parsedFamilies() ?? [] {
            let subjectID = try onboarding.registerSubject(
                producerID: producerID, subjectKey: "\(venue).\(symbol).\(family.rawValue)", schemaName: family.rawValue,
                schemaBody: family.schemaBody, attrs: ["venue": venue, "symbol": symbol])
            guard let shard = StreamShard.index(subjectID: subjectID, shards: shards) else {
                throw ProducerError(.subjectRefused, "the kernel answered subject id \(subjectID), not a UUID")
            }
            let stream = StreamShard.streamKey(base: channel.key("events"), shard: shard, shards: shards)
            Console.say("subject \(family.rawValue) subject_id=\(subjectID)" + (shards > 1 ? " shard=\(shard) stream=\(stream)" : ""))
            subjects.append(Publisher.Subject(family: family, subjectID: subjectID, stream: stream))
        }

        // 4. Publish until --seconds pass or SIGINT arrives.
        let publisher = Publisher(channel: channel, onboarding: onboarding, producerID: producerID, subjects: subjects,
                                  rate: rate, seconds: seconds, renewMarginSeconds: Int64(renewMargin), stop: stop)
        let started = Date()
        let counts = try publisher.run(token: token, simulator: MarketSimulator(venue: venue, symbol: symbol))
        let perFamily = subjects.map { "\($0.family.rawValue)=\(counts.byFamily[$0.family] ?? 0)" }.joined(separator: " ")
        Console.say(String(format: "published=%d in %.1f s (%@) renewals=%d", counts.published,
                     Date().timeIntervalSince(started), perFamily, counts.renewals))
    }

    private func parsedFamilies() -> [MarketFamily]? {
        let names = families.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = names.compactMap(MarketFamily.init(rawValue:))
        return parsed.count == names.count && !parsed.isEmpty ? parsed : nil
    }
}
