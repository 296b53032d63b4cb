#if canImport(Glibc)
import Glibc
#endif
import KernelEvents
import KernelPlugins
import KernelSpill
import KernelStore
import Logging

/// The checks of docs/protocol.md, "Ingest checks, in order", then routing and normalization, on the processor thread.
/// Rejected entries go to the acknowledger as dead letters; accepted events are batched (see
/// `Batcher`) and handed to the writers through a bounded queue.
final class IngestProcessor: @unchecked Sendable {
    // @unchecked: all mutable state is confined to the processor thread.
    struct Options: Sendable {
        var maxMessageBytes: Int
        var batchSize: Int
        var batchMaxWaitMs: Int
        var batchLingerMs: Int = 0
        /// `server.max_event_tags`, `server.max_tag_key_bytes`, `server.max_tag_value_bytes`.
        var envelopeLimits: EnvelopeLimits = .standard
    }

    let options: Options
    let wiring: PipelineWiring
    let directory: IngestDirectory
    let authenticator: any TokenAuthenticator
    let router: PluginRouter
    let logger: Logger
    let clock: () -> Int64
    /// The crash breadcrumb and this processor's slot in it (set by the pipeline); nil in tools
    /// and tests that run without one.
    var breadcrumb: (file: CallBreadcrumb, slot: Int)?
    /// This thread's slot, claimed when `run` starts.
    private var slot: CallBreadcrumb.Slot?
    /// This processor's plugin-host children, for plugins in `plugins.isolation: process` (set by
    /// the pipeline; nil: every plugin runs in process).
    var hosts: PluginHosts?
    private var batcher: Batcher<StoredEvent>
    /// Where each event in `batcher` came from, at the same index: the batcher cuts its whole
    /// buffer, so these are cut with it (`emit`).
    private var origins: [EventOrigin] = []
    private var verdicts: [[UInt8]: TokenVerdict] = [:]
    private var lastVerdict: (token: [UInt8], verdict: TokenVerdict)?
    /// The router generation the open batch was normalized under.
    private var routingGeneration: UInt64 = 0
    static let maxCachedVerdicts = 100_000

    init(options: Options, wiring: PipelineWiring, directory: IngestDirectory, authenticator: any TokenAuthenticator,
         router: PluginRouter, logger: Logger, clock: @escaping () -> Int64 = monotonicNanos) {
        self.options = options
        self.wiring = wiring
        self.directory = directory
        self.authenticator = authenticator
        self.router = router
        self.logger = logger
        self.clock = clock
        batcher = Batcher(maxEvents: options.batchSize, maxWaitNanos: Int64(options.batchMaxWaitMs) * 1_000_000,
                          lingerNanos: Int64(options.batchLingerMs) * 1_000_000)
        origins.reserveCapacity(batcher.maxEvents)
    }

    /// Runs until the input queue is closed and drained, then flushes its last batch. (Several
    /// processors share the queues; the pipeline closes the batch queue when all have finished.)
    func run() {
        if let breadcrumb {
            slot = breadcrumb.file.slot(breadcrumb.slot)
            // So a stack overflow inside a plugin still reaches the fault handler.
            CrashSignals.installAlternateStack()
        }
        while true {
            let now = clock()
            let wait: Double = batcher.idleDeadline.map { max(0, Double($0 - now) / 1e9) } ?? 0.25
            guard let chunk = wiring.entries.take(timeoutSeconds: wait) else {
                // Timed out (or closed and empty): nothing more to read right now.
                if wiring.entries.isClosedAndEmpty { break }
                if let batch = batcher.inputIdle(now: clock()) { emit(batch) }
                retryParkedIfDue()
                continue
            }
            retryParkedIfDue()
            let started = monotonicNanos()
            process(chunk)
            wiring.metrics.observeChunk(seconds: Double(monotonicNanos() - started) / 1e9)
            if wiring.entries.isEmpty, let batch = batcher.inputIdle(now: clock()) {
                emit(batch)
            } else if let batch = batcher.flushIfDue(now: clock()) {
                emit(batch)
            }
        }
        if let batch = batcher.inputDrained() { emit(batch) }
        hosts?.stopAll()
    }

    /// A plugin-host child's backoff has passed with entries parked meanwhile: a new routing
    /// generation makes the readers re-read them (`ParkingLot`).
    private func retryParkedIfDue() {
        if let hosts, hosts.takeRetryDue() { router.bumpGeneration() }
    }

    /// Hands a batch the batcher cut (always its whole buffer) to the writers, with the origins
    /// gathered beside it.
    private func emit(_ batch: [StoredEvent]) {
        precondition(batch.count == origins.count, "one origin per batched event")
        let pending = PendingBatch(events: batch, origins: origins)
        origins.removeAll(keepingCapacity: true)
        wiring.batches.put(pending, weight: pending.count)
    }

    /// One accepted event between the checks and normalization.
    /// (The entry stays in its chunk, named by index: copying a `StreamEntry` retains four
    /// buffers, and an accepted event used to be copied several times on its way.)
    private struct Accepted {
        /// Index of the entry in the chunk.
        var index: Int
        var envelope: EventEnvelope
        var producer: EventUUID
        var schema: IngestDirectory.Schema
    }

    /// The envelope's `payload` member: a slice of the entry's bytes, copied only for the
    /// generic table.
    private static func inner(_ a: borrowing Accepted, of chunk: UnsafeBufferPointer<StreamEntry>) -> ArraySlice<UInt8> {
        (chunk[a.index].payload ?? [])[a.envelope.payloadRange]
    }

    /// The token checks of the previous entry in this chunk. The directory changes only in
    /// `refreshIfDue`, at the start of a chunk, so within a chunk an entry carrying the same
    /// token buffer (producers send runs of one token; the reader interns them) gets the same
    /// answers: the jti lookups (three string hashes) are skipped.
    private struct TokenPass {
        var token: [UInt8]
        var identity: TokenIdentity
    }
    private var tokenPass: TokenPass?

    func process(_ chunk: [StreamEntry]) {
        let wallSeconds = Double(wallNanos()) / 1e9
        let nowNanos = wallNanos()
        directory.refreshIfDue(now: wallSeconds)
        tokenPass = nil
        var accepted: [Accepted] = []
        accepted.reserveCapacity(chunk.count)
        var deferred: [String] = []
        // Through a buffer pointer: `chunk[index]` passed as an argument copied the entry.
        chunk.withUnsafeBufferPointer { entries in
            for index in entries.indices {
                do {
                    switch try check(entries.baseAddress! + index, index: index, nowNanos: nowNanos, wallSeconds: wallSeconds) {
                    case .success(let a): accepted.append(a)
                    case .failure(let letter): wiring.acks.put(.deadLetter(letter))
                    }
                } catch {
                    deferred.append(entries[index].ref)
                }
            }
        }
        if !deferred.isEmpty {
            // Not acknowledged: they stay in the pending list and come back after a restart.
            wiring.inflight.release(deferred)
            logger.warning("entries deferred: postgres unreachable at shutdown", metadata: [
                "event": "infra", "component": "ingest", "entries": "\(deferred.count)",
            ])
        }
        guard !accepted.isEmpty else { return }
        recordActivity(accepted, now: wallSeconds)
        normalizeAndBatch(accepted, of: chunk)
    }

    /// Checks 0–7 of docs/protocol.md, "Ingest checks, in order"; the first failure wins.
    /// The entry is read through a pointer into the chunk: handed over as a value, each entry was
    /// copied first (a retain and a release of its four buffers); only a dead letter copies it now.
    private func check(_ pointer: UnsafePointer<StreamEntry>, index: Int, nowNanos: Int64, wallSeconds: Double) throws(LookupDeferred) -> Result<Accepted, DeadLetter> {
        /// `producer`: known once the token passed check 2 (recorded in the DLQ for replays).
        func reject(_ reason: RejectReason, _ detail: String, producer: EventUUID? = nil) -> Result<Accepted, DeadLetter> {
            .failure(DeadLetter(entry: pointer.pointee, reason: reason, detail: detail, producer: producer))
        }
        let payload = pointer.pointee.payload ?? []
        // 0. size, before anything else (and before auth: a huge entry costs nothing more).
        if payload.count > options.maxMessageBytes {
            return reject(.messageTooLarge, "payload is \(payload.count) bytes; server.max_message_bytes is \(options.maxMessageBytes)")
        }
        // 1. payload present.
        if payload.isEmpty { return reject(.emptyPayload, "the entry has no payload field") }
        // 2. token: signature and claims (cached per token), then its state.
        let token = pointer.pointee.token ?? []
        if token.isEmpty { return reject(.unauthenticated, "auth_required: the entry has no token field") }
        let identity: TokenIdentity
        if let pass = tokenPass, pass.token == token {
            identity = pass.identity   // passed checks 2 and 3 earlier in this chunk
        } else {
            let nowSeconds = Int64(wallSeconds)
            switch verdict(for: token, nowSeconds: nowSeconds) {
            case .invalid(let reason): return reject(.unauthenticated, reason)
            case .valid(let id): identity = id
            }
            if let problem = identity.timeProblem(nowSeconds: nowSeconds) { return reject(.unauthenticated, problem) }
            if directory.isRevoked(jti: identity.jti) { return reject(.unauthenticated, "token_revoked") }
            if try !directory.isIssued(jti: identity.jti, to: identity.producer, now: wallSeconds) {
                return reject(.unauthenticated, "unknown_or_mismatched_token")
            }
            if directory.isRevoked(jti: identity.jti) { return reject(.unauthenticated, "token_revoked") }
            // 3. producer enabled.
            if directory.isDisabled(identity.producer) {
                return reject(.producerDisabled, "producer \(identity.producer) is deregistered")
            }
            tokenPass = TokenPass(token: token, identity: identity)
        }
        // 4. envelope.
        let envelope: EventEnvelope
        do { envelope = try EventEnvelope.parse(payload, limits: options.envelopeLimits) } catch {
            return reject(.badEventJSON, error.description, producer: identity.producer)
        }
        // 4b. time window.
        if !TimeWindow.contains(tsNanos: envelope.tsNanos, nowNanos: nowNanos) {
            return reject(.tsOutOfRange, TimeWindow.describe(tsNanos: envelope.tsNanos, nowNanos: nowNanos) ?? "ts outside the accepted window",
                          producer: identity.producer)
        }
        // 5. token scoped to a subject.
        if let sid = identity.subject, sid != envelope.subjectID {
            return reject(.subjectMismatchToken, "token is scoped to subject \(sid), event names \(envelope.subjectID)", producer: identity.producer)
        }
        // 6. producer bound to the subject.
        if try !directory.isBound(identity.producer, envelope.subjectID, now: wallSeconds) {
            return reject(.producerSubjectForbidden, "producer \(identity.producer) is not bound to subject \(envelope.subjectID)", producer: identity.producer)
        }
        // 7. the subject has a current schema.
        guard let schema = try directory.currentSchema(of: envelope.subjectID, now: wallSeconds) else {
            return reject(.missingSubjectSchema, "subject \(envelope.subjectID) has no current schema", producer: identity.producer)
        }
        return .success(Accepted(index: index, envelope: envelope, producer: identity.producer, schema: schema))
    }

    private func verdict(for token: [UInt8], nowSeconds: Int64) -> TokenVerdict {
        // Producers send runs of entries with one token: compare with the last one before hashing
        // ~300 bytes into the dictionary (the hash was the processor's top self-time symbol).
        if let last = lastVerdict, last.token == token { return last.verdict }
        let v = cachedVerdict(for: token, nowSeconds: nowSeconds)
        lastVerdict = (token, v)
        return v
    }

    private func cachedVerdict(for token: [UInt8], nowSeconds: Int64) -> TokenVerdict {
        if let cached = verdicts[token] { return cached }
        let v = authenticator.authenticate(token, nowSeconds: nowSeconds)
        if verdicts.count >= Self.maxCachedVerdicts { verdicts.removeAll(keepingCapacity: true) }
        verdicts[token] = v
        return v
    }

    /// Check 9: the plugin serving the subject's family and version normalizes the event; then
    /// the event joins the current batch.
    private func normalizeAndBatch(_ accepted: [Accepted], of chunk: [StreamEntry]) {
        // Through buffer pointers: array subscripts passed on or bound with `let` copied the
        // entry and the accepted event (a retain and release per buffer each).
        chunk.withUnsafeBufferPointer { entries in
            accepted.withUnsafeBufferPointer { accepted in normalizeAndBatch(accepted, of: entries) }
        }
    }

    private func normalizeAndBatch(_ accepted: UnsafeBufferPointer<Accepted>, of chunk: UnsafeBufferPointer<StreamEntry>) {
        let (registry, generation) = router.snapshot
        if generation != routingGeneration {
            // Routing changed (plugin added, upgraded, removed, quarantined): close the batch
            // normalized under the old routing, so the switch falls on a batch boundary.
            if let batch = batcher.inputDrained() { emit(batch) }
            routingGeneration = generation
            hosts?.retainOnly(registry.entries.map(\.instance))
        }
        let budget = router.callBudgetNanos
        // Group by route (family and version), keeping each group's events in arrival order. A
        // chunk holds a handful of routes at most: a linear search, no per-event key string.
        var groups: [(family: String, version: UInt32, indices: [Int])] = []
        var last = -1
        for i in accepted.indices {
            let schema = accepted[i].schema
            if last < 0 || groups[last].version != schema.version || groups[last].family != schema.family {
                last = groups.firstIndex { $0.version == schema.version && $0.family == schema.family } ?? -1
                if last < 0 {
                    groups.append((schema.family, schema.version, []))
                    last = groups.count - 1
                }
            }
            groups[last].indices.append(i)
        }
        var results = [Result<NormalizedEvent, NormalizeFailure>?](repeating: nil, count: accepted.count)
        var typedFamily = [FamilyDescriptor?](repeating: nil, count: accepted.count)
        var parked: [Bool] = []
        /// Entries that crashed their plugin-host child `plugins.crash_strikes` times (detail).
        var poisoned: [String?] = []
        for group in groups {
            guard let route = registry.route(family: group.family, version: group.version) else {
                if router.isTyped(family: group.family) {
                    // A typed family with no plugin serving it now: never the generic table.
                    if parked.isEmpty { parked = [Bool](repeating: false, count: accepted.count) }
                    for i in group.indices { parked[i] = true }
                    park(group.indices.map { chunk[accepted[$0].index] }, family: group.family, generation: generation)
                }
                continue
            }
            if let hosts, hosts.isolated(route.instance) {
                // In a child process: its crashes and hangs are charged there (`PluginHosts`).
                let inputs = group.indices.map { i -> EventInput in
                    EventInput(family: group.family, schemaVersion: group.version,
                               eventUUID: accepted[i].envelope.eventID, subjectUUID: accepted[i].envelope.subjectID,
                               tsUnixNanos: accepted[i].envelope.tsNanos, payload: Self.inner(accepted[i], of: chunk))
                }
                let refs = group.indices.map { chunk[accepted[$0].index].ref }
                let (answers, timing) = hosts.normalize(route.instance, inputs, refs: refs, budgetNanos: budget)
                var outputs: [Result<NormalizedEvent, NormalizeFailure>] = []
                outputs.reserveCapacity(answers.count)
                var waiting: [StreamEntry] = []
                for (j, i) in group.indices.enumerated() {
                    switch answers[j] {
                    case .normalized(let result):
                        results[i] = result
                        outputs.append(result)
                        if route.family.isTyped { typedFamily[i] = route.family }
                    case .poison(let detail):
                        if poisoned.isEmpty { poisoned = [String?](repeating: nil, count: accepted.count) }
                        poisoned[i] = detail
                    case .park:
                        if parked.isEmpty { parked = [Bool](repeating: false, count: accepted.count) }
                        parked[i] = true
                        waiting.append(chunk[accepted[i].index])
                    }
                }
                if !waiting.isEmpty {
                    park(waiting, family: group.family, generation: generation,
                         why: "its plugin-host process keeps dying; its events stay pending until the restart backoff has passed")
                }
                account(route.instance, family: group.family, outputs: outputs, timing: timing, budget: budget)
                continue
            }
            for indices in calls(group.indices, accepted, chunk) {
                let inputs = indices.map { i -> EventInput in
                    EventInput(family: group.family, schemaVersion: group.version,
                               eventUUID: accepted[i].envelope.eventID, subjectUUID: accepted[i].envelope.subjectID,
                               tsUnixNanos: accepted[i].envelope.tsNanos, payload: Self.inner(accepted[i], of: chunk))
                }
                if let slot {
                    let d = route.instance.descriptor
                    slot.prepare(plugin: d.name, version: d.version.description, family: group.family,
                                 refs: indices.lazy.map { chunk[accepted[$0].index].ref })
                }
                let (outputs, timing) = route.instance.normalizeBatch(inputs, budgetNanos: budget, breadcrumb: slot)
                account(route.instance, family: group.family, outputs: outputs, timing: timing, budget: budget)
                for (j, i) in indices.enumerated() {
                    results[i] = outputs[j]
                    if route.family.isTyped { typedFamily[i] = route.family }
                }
            }
        }
        let now = clock()
        for i in accepted.indices {
            if !parked.isEmpty && parked[i] { continue }
            let entryIndex = accepted[i].index
            if !poisoned.isEmpty, let detail = poisoned[i] {
                wiring.acks.put(.deadLetter(DeadLetter(entry: chunk[entryIndex], reason: .poisonMessage, detail: detail,
                                                producer: accepted[i].producer)))
                continue
            }
            // Taken out of `results`, so the plugin's tag array is uniquely held and grows in place.
            let result = results[i]
            results[i] = nil
            if case .failure(let failure)? = result {
                wiring.acks.put(.deadLetter(DeadLetter(entry: chunk[entryIndex], reason: .normalizeFailed, detail: failure.message,
                                                producer: accepted[i].producer)))
                continue
            }
            var out = result.flatMap { try? $0.get() }
            var tags = out?.tags ?? []
            out?.tags = []
            if tags.isEmpty { tags.reserveCapacity(accepted[i].envelope.tags.count) }
            for t in accepted[i].envelope.tags { tags.append(Tag(key: t.key, value: t.value)) }
            var stored = StoredEvent(
                eventID: accepted[i].envelope.eventID,
                tsMicros: floorDiv(accepted[i].envelope.tsNanos, 1000),
                tsEventMicros: out?.eventTimeNanos.map { floorDiv($0, 1000) }, subjectID: accepted[i].envelope.subjectID,
                producerID: accepted[i].producer, schemaID: accepted[i].schema.schemaID, family: nil, payloadJSON: [],
                rows: [], tags: tags, mayBeRedelivery: chunk[entryIndex].mayBeRedelivery)
            stored.sourcePayload = chunk[entryIndex].payload ?? []
            stored.receivedAtMicros = chunk[entryIndex].readAtMicros
            if let out, let family = typedFamily[i] {
                stored.family = family
                stored.rows = out.rows
            } else if let json = out?.payloadJSON {
                stored.payloadJSON = Array(json.utf8)   // the plugin's normalized payload
            } else {
                stored.payloadJSON = Array(Self.inner(accepted[i], of: chunk))   // no plugin, or kept as published: generic JSON
            }
            origins.append(EventOrigin(entryID: chunk[entryIndex].ref, dlqID: chunk[entryIndex].dlqID))
            if let batch = batcher.append(stored, now: now) { emit(batch) }
        }
    }
}

extension IngestProcessor {
    /// The chunk's distinct producers and subjects, for the activity gauges (runs of one
    /// producer and a handful of subjects are the usual chunk: a short linear search).
    private func recordActivity(_ accepted: [Accepted], now: Double) {
        var producers: [EventUUID] = [], subjects: [EventUUID] = []
        accepted.withUnsafeBufferPointer { events in
            for i in events.indices {
                let p = events[i].producer, s = events[i].envelope.subjectID
                if producers.last != p && !producers.contains(p) { producers.append(p) }
                if subjects.last != s && (subjects.count > 64 || !subjects.contains(s)) { subjects.append(s) }
            }
        }
        wiring.metrics.activity.record(producers: producers, subjects: subjects, now: now)
    }

    /// Leaves entries of a typed family no plugin serves pending in Redis (`ParkingLot`): not
    /// acknowledged, not in flight; the reader re-reads them once routing changes.
    private func park(_ entries: [StreamEntry], family: String, generation: UInt64,
                      why: String = "no plugin serves it; its events stay pending until one does") {
        wiring.inflight.release(entries.map(\.ref))
        let first = router.parking.park(family: family, generation: generation, entries: entries.map { ($0.shard, $0.id) })
        if first {
            logger.error("family parked: \(why)", metadata: [
                "event": "infra", "component": "plugins", "reason_code": "plugin_unavailable", "family": .string(family),
                "entries": "\(entries.count)",
            ])
        }
    }

    /// Splits one route's events into plugin calls: a suspect entry (`StreamEntry.isolate`) gets
    /// a call of its own, so a crash names it alone; the rest go in calls of at most the
    /// breadcrumb slot's capacity, so every call's entries are on record.
    private func calls(_ indices: [Int], _ accepted: UnsafeBufferPointer<Accepted>,
                       _ chunk: UnsafeBufferPointer<StreamEntry>) -> [[Int]] {
        let capacity = slot?.capacity ?? Int.max
        if indices.count <= capacity, !indices.contains(where: { chunk[accepted[$0].index].isolate }) { return [indices] }
        var out: [[Int]] = []
        var current: [Int] = []
        for i in indices {
            if chunk[accepted[i].index].isolate {
                out.append([i])
                continue
            }
            current.append(i)
            if current.count == capacity {
                out.append(current)
                current = []
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Per-family counters, and a report of every call over `plugins.call_budget_ms` (logged
    /// here, and handed to the lifecycle, which quarantines a plugin that keeps doing it).
    func account(_ instance: PluginInstance, family: String, outputs: [Result<NormalizedEvent, NormalizeFailure>],
                 timing: CallTiming, budget: Int64) {
        let counters = router.metrics.family(family)
        var errors = 0
        for output in outputs { if case .failure = output { errors += 1 } }
        counters.events.add(outputs.count, ordering: .relaxed)
        if errors > 0 { counters.errors.add(errors, ordering: .relaxed) }
        counters.nanos.add(Int(timing.totalNanos), ordering: .relaxed)
        if !outputs.isEmpty {
            wiring.metrics.observeNormalize(family: family, secondsPerEvent: Double(timing.totalNanos) / 1e9 / Double(outputs.count))
        }
        guard timing.slowCalls > 0 else { return }
        counters.slowCalls.add(timing.slowCalls, ordering: .relaxed)
        logger.warning("plugin call over budget", metadata: [
            "event": "infra", "component": "plugins", "reason_code": "plugin_call_over_budget",
            "plugin": .string(instance.descriptor.name), "version": .string(instance.descriptor.version.description),
            "family": .string(family), "slow_calls": "\(timing.slowCalls)", "events": "\(outputs.count)",
            "slowest_ms": "\(timing.slowestNanos / 1_000_000)", "budget_ms": "\(budget / 1_000_000)",
        ])
        router.reportSlowCall(SlowPluginCall(instance: instance, family: family, timing: timing, budgetNanos: budget))
    }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}


func wallNanos() -> Int64 { unixNanos() }
