import ArgumentParser
import KernelAuth
import KernelConfig
import KernelCore
import KernelEvents
import KernelJSON
import KernelPostgres
import KernelRedis

#if canImport(Glibc)
import Glibc
#endif

/// `kernel dlq …`: read the dead-letter stream and re-inject its entries once the cause is fixed
/// (docs/operations.md, "Dead letters").
struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Dead letters: list them, replay them into the event stream.",
        subcommands: [List.self, Replay.self]
    )

    /// One DLQ entry as the acknowledger wrote it (`DeadLetterWriter.xadd`).
    struct Entry {
        /// The DLQ stream's own entry id.
        var dlqEntry: String
        var id: String
        var payload: [UInt8]
        var reason: String
        var detail: String
        var producer: EventUUID?

        init?(_ reply: RedisReply) {
            guard case .array(let pair) = reply, pair.count == 2, let entryID = pair[0].text,
                  case .array(let fields) = pair[1] else { return nil }
            dlqEntry = entryID
            id = ""
            payload = []
            reason = ""
            detail = ""
            var i = 0
            while i + 1 < fields.count {
                let name = fields[i].text ?? ""
                switch name {
                case "id": id = fields[i + 1].text ?? ""
                case "payload": if case .string(let bytes) = fields[i + 1] { payload = bytes }
                case "reason": reason = fields[i + 1].text ?? ""
                case "detail": detail = fields[i + 1].text ?? ""
                case "producer_id": producer = fields[i + 1].text.flatMap { EventUUID($0) }
                default: break
                }
                i += 2
            }
        }
    }

    /// Calls `body` with every DLQ entry, oldest first, `page` at a time (XRANGE with an exclusive
    /// start, so entries deleted meanwhile are simply not seen again).
    static func forEachEntry(_ redis: any RedisClient, stream: String, page: Int = 500,
                             _ body: (Entry) throws -> Bool) throws {
        var start = "-"
        while true {
            let reply = try redis.command(["XRANGE", stream, start, "+", "COUNT", String(page)])
            if case .error(let message) = reply { throw ValidationError("XRANGE \(stream): \(message)") }
            guard case .array(let items) = reply, !items.isEmpty else { return }
            for item in items {
                guard let entry = Entry(item) else { continue }
                start = "(" + entry.dlqEntry
                if try !body(entry) { return }
            }
            if items.count < page { return }
        }
    }

    /// `kernel dlq list [--reason R] [--count N] [--payload]`: one JSON object per entry.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print dead letters, oldest first, one JSON object per line.")
        @OptionGroup var options: ConfigOption
        @Option(help: "Only entries with this reason code (e.g. normalize_failed).") var reason: String?
        @Option(help: "At most this many entries.") var count: Int?
        @Flag(help: "Include the payload (the bytes the producer published) as text.") var payload = false

        func run() throws {
            let config = try loadConfigOrExit(options.config)
            let redis = try connectOrExit(config, command: "list")
            defer { redis.close() }
            var printed = 0
            try DLQCommand.forEachEntry(redis, stream: config.redis.dlqStreamKey) { entry in
                if let reason, entry.reason != reason { return true }
                var members: [(key: String, value: JSONValue)] = [
                    ("dlq_entry", .string(entry.dlqEntry)), ("id", .string(entry.id)),
                    ("reason", .string(entry.reason)), ("detail", .string(entry.detail)),
                    ("producer_id", entry.producer.map { .string($0.description) } ?? .null),
                    ("payload_bytes", .number(String(entry.payload.count))),
                ]
                if payload { members.append(("payload", .string(String(decoding: entry.payload, as: UTF8.self)))) }
                print(JSONWriter.serialize(.object(JSONObject(members))))
                printed += 1
                return count.map { printed < $0 } ?? true
            }
        }
    }

    /// `kernel dlq replay [--reason R] [--as-producer UUID] [--dry-run]`.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-inject dead letters into the event stream, then delete them from the DLQ.",
            discussion: """
                Each entry is XADDed to the event stream (its subject's shard) with its payload, its id and
                a fresh token for the producer recorded in the entry (minted with the configured issuer key
                and recorded in producer_tokens), then XDELed from the DLQ. The kernel checks it again like
                any event: an entry whose cause is not fixed comes back to the DLQ. Entries refused before
                their token was checked (unauthenticated, poison_message, …) carry no producer: they are
                skipped unless --as-producer names one. A crash between the XADD and the XDEL leaves the
                entry in both; the event id makes the second write a duplicate, stored once.
                """)
        @OptionGroup var options: ConfigOption
        @Option(help: "Only entries with this reason code (e.g. normalize_failed). Default: every entry.") var reason: String?
        @Option(help: "Replay entries that carry no producer in this producer's name (the operator vouches for them).")
        var asProducer: String?
        @Option(help: "At most this many entries.") var count: Int?
        @Flag(help: "Print what would be replayed; change nothing.") var dryRun = false

        func validate() throws {
            if let asProducer, EventUUID(asProducer) == nil {
                throw ValidationError("--as-producer must be a UUID, got \"\(asProducer)\"")
            }
            if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        }

        func run() throws {
            let config = try loadConfigOrExit(options.config)
            let redis = try connectOrExit(config, command: "replay")
            defer { redis.close() }
            let fallback = asProducer.flatMap { EventUUID($0) }
            var tokens: [EventUUID: String] = [:]
            var minter: TokenMinter?
            var replayed = 0
            var skipped: [String: Int] = [:]
            try DLQCommand.forEachEntry(redis, stream: config.redis.dlqStreamKey) { entry in
                if let reason, entry.reason != reason { return true }
                guard let producer = entry.producer ?? fallback else {
                    skipped["no_producer (\(entry.reason))", default: 0] += 1
                    return true
                }
                let stream = DLQCommand.stream(for: entry.payload, config: config.redis)
                if dryRun {
                    print("would replay \(entry.dlqEntry) (\(entry.reason), id \(entry.id)) to \(stream) as producer \(producer)")
                } else {
                    let token: String
                    if let known = tokens[producer] {
                        token = known
                    } else {
                        if minter == nil { minter = try TokenMinter(config: config) }
                        token = try minter!.mint(for: producer)
                        tokens[producer] = token
                    }
                    var add: [[UInt8]] = [Array("XADD".utf8), Array(stream.utf8), Array("*".utf8),
                                          Array("payload".utf8), entry.payload, Array("token".utf8), Array(token.utf8)]
                    if !entry.id.isEmpty { add += [Array("id".utf8), Array(entry.id.utf8)] }
                    // The XADD first: a failure before the XDEL leaves the entry in the DLQ too,
                    // never in neither.
                    if case .error(let message) = try redis.command(add) {
                        printError("kernel dlq replay: XADD \(stream) refused: \(message)")
                        throw ExitCode(1)
                    }
                    _ = try redis.command(["XDEL", config.redis.dlqStreamKey, entry.dlqEntry])
                }
                replayed += 1
                return count.map { replayed < $0 } ?? true
            }
            let summary = JSONValue.object(JSONObject([
                (dryRun ? "would_replay" : "replayed", .number(String(replayed))),
                ("skipped", .object(JSONObject(skipped.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) }))),
            ]))
            print(JSONWriter.serialize(summary))
        }
    }

    /// The event stream (shard) an entry goes back to: its subject's shard, as producers choose
    /// it; shard 0 when the payload names no readable subject (the kernel refuses it again).
    static func stream(for payload: [UInt8], config: KernelConfig.Redis) -> String {
        guard config.shards > 1 else { return config.streamKey }
        let subject = payload.withUnsafeBytes { bytes -> EventUUID? in
            let found = JSONScanner.field("subject_id", in: bytes)
            guard found.kind == .string else { return nil }
            return EventUUID(utf8: UnsafeRawBufferPointer(rebasing: bytes[found.range]))
        }
        return config.shardStreamKey(subject.map { StreamShard.index(subjectID: $0, shards: config.shards) } ?? 0)
    }
}

/// Tokens for `kernel dlq replay`, minted like `kernel token issue` (one per producer, one hour).
struct TokenMinter {
    let issuer: TokenIssuer
    let pg: PGConnection

    init(config: KernelConfig) throws {
        do {
            issuer = try TokenIssuer(settings: config.authSettings)
        } catch {
            printError("kernel dlq replay: cannot load the issuer key: \(error.message)")
            throw ExitCode(1)
        }
        do {
            pg = try PGConnection(dsn: config.postgres.connectionDSN(), logger: quietLogger())
        } catch {
            printError("kernel dlq replay: cannot connect to Postgres: \(error.message)")
            throw ExitCode(1)
        }
    }

    func mint(for producer: EventUUID) throws -> String {
        let issued = issuer.issue(producer: producer, subject: nil, fingerprint: nil, ttlSeconds: 3600,
                                  nowSeconds: Int64(time(nil)))
        do {
            try recordToken(issued, producer: producer.description, notes: "dlq replay", on: pg)
        } catch {
            printError("kernel dlq replay: cannot record a token for producer \(producer): \(error.message)")
            throw ExitCode(1)
        }
        return issued.token
    }
}

private func connectOrExit(_ config: KernelConfig, command: String) throws -> any RedisClient {
    do {
        return try config.redisSettings.connectClient()
    } catch {
        printError("kernel dlq \(command): cannot connect to Redis: \(error.message)")
        throw ExitCode(1)
    }
}
