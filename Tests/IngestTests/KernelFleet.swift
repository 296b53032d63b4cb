import Foundation
import KernelEvents
import KernelRedis
import Synchronization
import Testing

/// Several `kernel run` children sharing one test's database, key prefix and consumer group, each
/// with its own consumer name, config file, log file and spill directory: the scale-out setup.
/// Also reads what the group looks like in Redis (consumers, their pending lists).
final class KernelFleet: @unchecked Sendable {
    // @unchecked: used from the test's own thread only.
    let h: IngestHarness
    let group = "kernel"
    private var processes: [String: Process] = [:]

    init(_ harness: IngestHarness) { h = harness }

    /// The harness's config for consumer `name`, with its own log and spill directory and the reader
    /// knobs of a scale-out test. `deadConsumerMs` nil leaves the default (one hour).
    func yaml(_ name: String, claimIdleMs: Int, deadConsumerMs: Int? = nil, batchSize: Int = 200,
              batchMaxWaitMs: Int = 50, maxDeliveries: Int = 5) throws -> String {
        var text = h.yaml(batchSize: batchSize, batchMaxWaitMs: batchMaxWaitMs, maxDeliveries: maxDeliveries, consumer: name)
        var reader = "claim_idle_ms: \(claimIdleMs)"
        if let deadConsumerMs { reader += "\n  dead_consumer_ms: \(deadConsumerMs)" }
        try replace(&text, "claim_idle_ms: 60000", with: reader)
        try replace(&text, "output: \"\(h.dir)/kernel.log\"", with: "output: \"\(logPath(name))\"")
        try replace(&text, "dir: \"\(h.dir)/spill\"", with: "dir: \"\(h.dir)/spill-\(name)\"")
        return text
    }

    /// Starts `kernel run` as consumer `name` (see `yaml`).
    @discardableResult
    func start(_ name: String, claimIdleMs: Int, deadConsumerMs: Int? = nil, batchSize: Int = 200,
               batchMaxWaitMs: Int = 50, maxDeliveries: Int = 5) throws -> Process {
        let text = try yaml(name, claimIdleMs: claimIdleMs, deadConsumerMs: deadConsumerMs, batchSize: batchSize,
                            batchMaxWaitMs: batchMaxWaitMs, maxDeliveries: maxDeliveries)
        let configPath = h.dir + "/\(name).yaml"
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        let p = try IngestHarness.startKernel(configPath: configPath, stderrPath: h.dir + "/\(name).stderr")
        processes[name] = p
        return p
    }

    /// SIGKILL: the kernel dies holding whatever it had read but not acknowledged.
    func kill9(_ name: String) {
        guard let p = processes.removeValue(forKey: name) else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// SIGKILLs kernel `name` at a moment it holds at least `atLeast` entries it read but has not
    /// acknowledged, and returns their ids (empty if no such moment came within `timeout`). The
    /// kernel is frozen (SIGSTOP) while its pending list is looked at, so the list is exactly what
    /// it died holding; if the list is too short it is resumed and looked at again a little later.
    func kill9HoldingPending(_ name: String, atLeast: Int = 1, timeout: Double = 60) throws -> [String] {
        guard let p = processes[name] else { return [] }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            kill(p.processIdentifier, SIGSTOP)
            // Let commands the kernel sent just before it froze (an XACK in its socket buffer)
            // reach Redis, so the snapshot is what it really holds.
            Thread.sleep(forTimeInterval: 0.05)
            let held = try pendingIDs(of: name)
            if held.count >= max(1, atLeast) {
                kill9(name)
                return held
            }
            kill(p.processIdentifier, SIGCONT)
            Thread.sleep(forTimeInterval: 0.02)
        }
        return []
    }

    /// SIGTERM and wait; returns whether the kernel exited normally with status 0.
    func terminate(_ name: String) -> (clean: Bool, status: Int32) {
        guard let p = processes.removeValue(forKey: name) else { return (false, -1) }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        return (p.terminationReason == .exit && p.terminationStatus == 0, p.terminationStatus)
    }

    /// Stops every kernel still running (SIGTERM); for `defer`.
    func stopAll() {
        for name in processes.keys.sorted() { _ = terminate(name) }
    }

    func isRunning(_ name: String) -> Bool { processes[name]?.isRunning ?? false }

    // MARK: logs

    func logPath(_ name: String) -> String { h.dir + "/\(name).log" }

    /// The JSON log lines of kernel `name` whose message is `message`, as objects.
    func logEntries(_ name: String, message: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: logPath(name), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard line.contains(message),
                  let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["msg"] as? String == message
            else { return nil }
            return object
        }
    }

    /// How many entries kernel `name` says it claimed from other consumers (its "claimed abandoned
    /// entries" lines).
    func claimedCount(_ name: String) -> Int {
        logEntries(name, message: "claimed abandoned entries").reduce(0) { sum, entry in
            let fields = entry["fields"] as? [String: Any]
            let count = (fields?["count"] as? String).flatMap(Int.init) ?? (fields?["count"] as? Int) ?? 0
            return sum + count
        }
    }

    // MARK: the group in Redis

    struct Consumer: Equatable { var pending: Int; var idleMs: Int }

    /// XINFO CONSUMERS of the group on the event stream, by consumer name.
    func consumers() throws -> [String: Consumer] {
        let reply = try h.redis.command(["XINFO", "CONSUMERS", h.streamKey, group])
        if case .error(let message) = reply { throw HarnessError(message: "XINFO CONSUMERS: \(message)") }
        var result: [String: Consumer] = [:]
        for item in reply.array ?? [] {
            let fields = item.array ?? []
            var name = ""
            var consumer = Consumer(pending: 0, idleMs: 0)
            var i = 0
            while i + 1 < fields.count {
                switch fields[i].text {
                case "name": name = fields[i + 1].text ?? ""
                case "pending": consumer.pending = Int(fields[i + 1].integer ?? 0)
                case "idle": consumer.idleMs = Int(fields[i + 1].integer ?? 0)
                default: break
                }
                i += 2
            }
            result[name] = consumer
        }
        return result
    }

    /// Ids in `consumer`'s pending list (up to `limit`).
    func pendingIDs(of consumer: String, limit: Int = 100_000) throws -> [String] {
        let reply = try h.redis.command(["XPENDING", h.streamKey, group, "-", "+", String(limit), consumer])
        return (reply.array ?? []).compactMap { $0.array?.first?.text }
    }

    /// Creates consumer `name` in the group by reading one new entry as it (XREADGROUP `>`), as a
    /// kernel would; the entry stays in its pending list unless `acknowledge`.
    @discardableResult
    func readOne(as name: String, acknowledge: Bool = false) throws -> String {
        let reply = try h.redis.command(["XREADGROUP", "GROUP", group, name, "COUNT", "1", "STREAMS", h.streamKey, ">"])
        guard let id = reply.array?.first?.array?.last?.array?.first?.array?.first?.text else {
            throw HarnessError(message: "XREADGROUP as \(name) returned no entry: \(reply)")
        }
        if acknowledge { try h.redis.command(["XACK", h.streamKey, group, id]) }
        return id
    }

    func createGroup() throws {
        let reply = try h.redis.command(["XGROUP", "CREATE", h.streamKey, group, "0-0", "MKSTREAM"])
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
            throw HarnessError(message: "XGROUP CREATE: \(message)")
        }
    }

    private func replace(_ text: inout String, _ old: String, with new: String) throws {
        guard text.contains(old) else { throw HarnessError(message: "harness config no longer contains \(old)") }
        text = text.replacingOccurrences(of: old, with: new)
    }
}

/// Publishes trade events for one subject on its own thread and connection at a steady rate:
/// `perTick` events every `tickMs`. It can be held at a mark (`holdAt`) until the test releases
/// it, so a test can do something while publishing is provably still going on. While held it
/// trickles (a tenth of `perTick` a tick, up to half of what is left after the mark): a kernel
/// that drained everything before the mark still gets entries delivered, so the test can catch
/// it holding some (`KernelFleet.kill9HoldingPending`); the rest waits for `release`.
final class SteadyPublisher: @unchecked Sendable {
    // @unchecked: the configuration is fixed before `start`; the counters are atomics.
    let streamKey: String
    let subject: EventUUID
    let token: String
    let total: Int
    let perTick: Int
    let tickMs: Int
    let holdAt: Int?
    let published = Atomic<Int>(0)
    private let released = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let failure = Mutex<String?>(nil)

    init(streamKey: String, subject: EventUUID, token: String, total: Int, perTick: Int, tickMs: Int, holdAt: Int? = nil) {
        self.streamKey = streamKey
        self.subject = subject
        self.token = token
        self.total = total
        self.perTick = perTick
        self.tickMs = tickMs
        self.holdAt = holdAt
    }

    var count: Int { published.load(ordering: .acquiring) }
    var isFinished: Bool { finished.load(ordering: .acquiring) }
    var error: String? { failure.withLock { $0 } }

    /// Lets a publisher held at `holdAt` go on.
    func release() { released.store(true, ordering: .releasing) }

    /// Stops publishing early (for `defer`, so a failed test leaves no thread writing).
    func stop() {
        stopped.store(true, ordering: .releasing)
        release()
    }

    func start() {
        let thread = Thread { [self] in
            do throws(RedisError) {
                let redis = try RedisConnection(endpoint: RedisConnection.Endpoint(address: IngestHarness.redisAddr)!, timeoutMs: 5000)
                defer { redis.close() }
                try publishAll(redis)
            } catch {
                failure.withLock { $0 = error.description }
            }
            finished.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// Waits (bounded) until every event is published; returns whether it was.
    func waitFinished(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !isFinished && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return isFinished && error == nil && count == total
    }

    private func publishAll(_ redis: RedisConnection) throws(RedisError) {
        var sent = 0
        while sent < total && !stopped.load(ordering: .acquiring) {
            var n = min(perTick, total - sent)
            if let holdAt, sent < holdAt { n = min(n, holdAt - sent) }
            if let holdAt, sent >= holdAt, !released.load(ordering: .acquiring) {
                let trickleEnd = holdAt + (total - holdAt) / 2
                guard sent < trickleEnd else {
                    while !released.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.01) }
                    continue
                }
                n = min(max(1, perTick / 10), trickleEnd - sent)
            }
            let ts = Date()
            var commands: [[[UInt8]]] = []
            commands.reserveCapacity(n)
            for i in sent..<(sent + n) {
                let payload = IngestHarness.envelope(
                    subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(100 + i % 50).25","size":"\#(1 + i)"}"#, ts: ts)
                commands.append(["XADD", streamKey, "*", "payload", payload, "token", token].map { Array($0.utf8) })
            }
            for reply in try redis.pipeline(commands) {
                if case .error(let message) = reply { throw RedisError(kind: .reply, message: "XADD: \(message)") }
            }
            sent += n
            published.store(sent, ordering: .releasing)
            Thread.sleep(forTimeInterval: Double(tickMs) / 1000)
        }
    }
}
