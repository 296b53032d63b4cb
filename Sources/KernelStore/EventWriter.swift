import KernelCrypto
import KernelEvents
import KernelSchema
import KernelPostgres
import Logging

/// Writes batches of accepted events to Postgres over one connection: typed rows to
/// `md_<family>`, generic payloads to `events` (tags on the rows, `tag_ids`), one transaction per
/// batch with synchronous commit.
///
/// **Not thread-safe.** One writer per `PGConnection`, used from one thread at a time (the
/// connection's dedicated thread). It is `@unchecked Sendable` only so it can be handed to that
/// thread. It caches per-connection state (tag ids, ensured partitions, TEMP staging tables), so
/// after a `.connectivity` error make a new connection and a new writer.
///
/// How a batch is written:
/// - Events with the same (event_id, ts) inside the batch are kept once; the copies count as
///   duplicates.
/// - Tag ids come from the `tags` dictionary, cached in memory; misses are upserted in autocommit
///   mode before the batch transaction (an unused dictionary entry is harmless).
/// - The monthly partitions of every (table, month) the batch touches are ensured first, once
///   per pair per writer.
/// - Fast path (no event flagged `mayBeRedelivery`): binary COPY of the ids into `event_ids`,
///   then of the rows straight into the tables. If Postgres reports a unique violation (an
///   `event_id` stored before), the batch is rolled back and redone on the dedup path.
/// - Dedup path: binary COPY into TEMP staging tables, then `INSERT … SELECT … ON CONFLICT DO
///   NOTHING`, counting per event what was new.
/// - A data error (SQLSTATE class 22/23) isolates the bad events by halving the batch under
///   savepoints inside one transaction: the good events commit, the bad ones come back in
///   `WriteReport.rejected` with Postgres' message. Connectivity errors are thrown, never split.
/// - A deadlock or serialization failure reruns the batch transaction (up to 3 attempts).
public final class EventWriter: @unchecked Sendable {
    private let connection: PGConnection
    private let logger: Logger
    private var tags = TagDictionary()
    private var partitions = PartitionKeeper()
    private var genericLayout: TableLayout?
    /// Per family name, the column layouts seen, newest first: around a plugin upgrade that
    /// adds a column, batches of the old and the new version alternate.
    private var typedLayouts: [String: [TableLayout]] = [:]
    /// Tables whose TEMP staging table exists with the current layout's columns.
    private var stagesReady: Set<String> = []
    private var identityStageReady = false
    private let sha256 = DigestContext(.sha256)

    /// Dictionary entries one producer may add (`server.max_tags_per_producer`); an event that
    /// needs more is refused as over budget (`WriteReport.overBudget`).
    public var tagBudgetPerProducer = 100_000

    /// Creates a writer for `connection`, which it uses exclusively from now on.
    public init(connection: PGConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Writes one batch in one transaction and reports what happened to each event.
    ///
    /// Returns when the batch is committed (or refused entirely); `inserted + duplicates +
    /// rejected.count + conflicts.count + overBudget.count == batch.count`, refused events named
    /// by their index in `batch`. Throws `.connectivity` when Postgres is unreachable or the
    /// connection broke (nothing committed, see `StoreError`), `.database` for failures that are
    /// not the events' fault.
    public func write(_ batch: [StoredEvent]) throws(StoreError) -> WriteReport {
        guard !batch.isEmpty else { return WriteReport() }
        do {
            return try writeBatch(batch)
        } catch {
            if error.kind == .connectivity { connection.rollbackQuietly() }
            throw StoreError.wrap(error)
        }
    }

    /// The raw limit, for benchmarks: binary COPY of the batch's typed rows straight into their
    /// tables in one transaction. No tags, no generic events, no deduplication, no isolation of
    /// bad rows (a duplicate or a bad value fails the whole batch). Partitions are ensured first.
    public func rawCopy(_ batch: [StoredEvent]) throws(StoreError) {
        do {
            let typedOnly = batch.filter { $0.family?.isTyped == true }
            var plan = try makePlan(typedOnly, withTags: false, withIdentity: false)
            try ensurePartitions(&plan, batch: typedOnly)
            let all = plan.planned[...]
            try connection.transaction { () throws(PGError) in try writeFast(plan, all) }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    // MARK: - batch

    private struct Outcome {
        var inserted = 0
        var rejected: [(input: Int, reason: String)] = []
        /// Event ids already stored with other content (`event_id_conflict`).
        var conflicts: Set<EventUUID> = []
        var dedup = false
    }

    /// Hashed over every word (synthesized): ids come from producers, and a pre-mixed single
    /// word would let one craft colliding ids. The event id alone: it is the identity, whatever
    /// the ts (docs/producers.md, "Event identity").
    private struct DedupKey: Hashable {
        var id: EventUUID
    }

    private func writeBatch(_ batch: [StoredEvent]) throws(PGError) -> WriteReport {
        var plan = try makePlan(batch, withTags: true)
        try ensurePartitions(&plan, batch: batch)
        var outcome = Outcome()
        var attempt = 1
        while !plan.planned.isEmpty {
            do throws(PGError) {
                outcome = try commit(plan)
                break
            } catch where EventWriter.isTransient(error) && attempt < EventWriter.maxAttempts {
                // Two writers storing the same redelivered events in different orders can
                // deadlock; Postgres aborts one transaction, which then simply runs again.
                logger.debug("store_retry", metadata: ["attempt": "\(attempt)", "reason": "\(error.message)"])
                attempt += 1
            }
        }

        var reasons: [Int: String] = [:]
        for (input, reason) in plan.rejected { reasons[input] = reason }
        for (input, reason) in outcome.rejected { reasons[input] = reason }
        var conflictInputs: [Int] = []
        if !outcome.conflicts.isEmpty {
            for event in plan.planned where outcome.conflicts.contains(batch[event.input].eventID) {
                conflictInputs.append(event.input)
            }
        }
        var duplicates = plan.planned.count - outcome.rejected.count - outcome.inserted - conflictInputs.count
        for (copy, kept) in plan.twins {
            if let reason = reasons[kept] { reasons[copy] = reason } else { duplicates += 1 }
        }
        var rejected: [(index: Int, reason: String)] = []
        var overBudget: [(index: Int, detail: String)] = []
        for (input, reason) in reasons.sorted(by: { $0.key < $1.key }) {
            let budgetInput = plan.twins.first { $0.copy == input }?.kept ?? input
            if plan.overBudget.contains(budgetInput) {
                overBudget.append((index: input, detail: reason))
            } else {
                rejected.append((index: input, reason: reason))
            }
        }
        var conflicts = conflictInputs.sorted().map { input in
            (index: input,
             detail: "event_id \(batch[input].eventID) is already stored with other content (first write wins)")
        }
        var inserted = outcome.inserted
        if !plan.deferredTwins.isEmpty {
            // Now that the first copies are stored (or refused), each later copy is compared with
            // what is stored, like any redelivery. Its report names positions in the second
            // batch: `deferredTwins` maps them back to this one's.
            let twins = plan.deferredTwins
            let second = try writeBatch(twins.map { var e = batch[$0]; e.mayBeRedelivery = true; return e })
            inserted += second.inserted
            duplicates += second.duplicates
            rejected += second.rejected.map { (index: twins[$0.index], reason: $0.reason) }
            conflicts += second.conflicts.map { (index: twins[$0.index], detail: $0.detail) }
            overBudget += second.overBudget.map { (index: twins[$0.index], detail: $0.detail) }
        }
        if let first = conflictInputs.first {
            // (Conflicts of a second pass were logged by that pass.)
            logger.warning("store_event_id_conflict", metadata: [
                "count": "\(conflictInputs.count)", "event_id": "\(batch[first].eventID)",
            ])
        }
        if let first = rejected.first {
            logger.warning("store_rejected", metadata: [
                "count": "\(rejected.count)", "batch": "\(batch.count)",
                "event_id": "\(batch[first.index].eventID)", "reason": "\(first.reason)",
            ])
        }
        if let first = overBudget.first {
            logger.warning("store_tag_budget_exceeded", metadata: [
                "count": "\(overBudget.count)", "event_id": "\(batch[first.index].eventID)", "reason": "\(first.detail)",
            ])
        }
        return WriteReport(inserted: inserted, duplicates: duplicates, rejected: rejected,
                           conflicts: conflicts, overBudget: overBudget, usedDedupPath: outcome.dedup)
    }

    /// Deduplicates, resolves tags and encodes every event once.
    private func makePlan(_ batch: [StoredEvent], withTags: Bool, withIdentity: Bool = true) throws(PGError) -> BatchPlan {
        // Through a buffer pointer: an array subscript passed as an argument copied the whole
        // event (a retain and a release per reference field), several times per event.
        try batch.withUnsafeBufferPointer { events throws(PGError) in
            try makePlan(events, withTags: withTags, withIdentity: withIdentity)
        }
    }

    private func makePlan(_ batch: UnsafeBufferPointer<StoredEvent>, withTags: Bool,
                          withIdentity: Bool) throws(PGError) -> BatchPlan {
        var plan = BatchPlan()
        var firstIndex: [DedupKey: Int] = [:]
        firstIndex.reserveCapacity(batch.count)
        var candidates: [Int] = []
        candidates.reserveCapacity(batch.count)
        var digests: [EventDigest?] = withIdentity ? Array(repeating: nil, count: batch.count) : []
        for index in batch.indices {
            if batch[index].mayBeRedelivery { plan.mayHaveRedeliveries = true }
            if withIdentity { digests[index] = EventDigest(batch[index], using: sha256) }
            let key = DedupKey(id: batch[index].eventID)
            if let kept = firstIndex[key] {
                if withIdentity && digests[index] != digests[kept] {
                    plan.deferredTwins.append(index)
                } else {
                    plan.twins.append((index, kept))
                }
            } else {
                firstIndex[key] = index
                candidates.append(index)
            }
        }

        // Tag ids: one cache lookup per tag. In the steady state every tag is cached and the ids
        // found here are used as they are; after a miss, the events are looked up again once the
        // misses are resolved.
        var refused: [TagDictionary.Key: TagDictionary.Refusal] = [:]
        var foundIDs: [Int64] = []
        var foundRanges: [Range<Int>] = []
        var anyMiss = false
        if withTags {
            tags.trimIfFull()
            var misses: [Tag] = []
            var missedBy: [EventUUID] = []
            foundRanges.reserveCapacity(candidates.count)
            foundIDs.reserveCapacity(candidates.count * 3)
            // Position j of the previous events' tags: the last cached tag seen there and its id.
            // Events of one family list their tags in one order and repeat most of them (venue,
            // source), so an exact match here skips the cache's folding and hashing.
            var memoTags: [Tag] = [], memoIDs: [Int64] = []
            for index in candidates {
                let start = foundIDs.count
                let eventTags = batch[index].tags
                for j in eventTags.indices {
                    let found: Int64?
                    if j < memoTags.count, memoTags[j] == eventTags[j] {
                        found = memoIDs[j]
                    } else {
                        found = tags.cached(eventTags[j])
                        if let found, j <= memoTags.count {
                            if j == memoTags.count {
                                memoTags.append(eventTags[j])
                                memoIDs.append(found)
                            } else {
                                memoTags[j] = eventTags[j]
                                memoIDs[j] = found
                            }
                        }
                    }
                    if let id = found {
                        if !foundIDs[start...].contains(id) { foundIDs.append(id) }
                    } else {
                        misses.append(eventTags[j])
                        missedBy.append(batch[index].producerID)
                    }
                }
                foundRanges.append(start..<foundIDs.count)
            }
            if !misses.isEmpty {
                anyMiss = true
                refused = try tags.resolve(misses, producers: missedBy, budget: tagBudgetPerProducer, on: connection)
            }
        }

        var tagIDs: [Int64] = []
        // The last family's target, its column types and tuple width: batches are mostly one
        // family (no table-name work, and no copy of the types or the layout, per event).
        var lastTarget: (family: FamilyDescriptor, index: Int, types: [ColumnType], fieldCount: Int)?
        events: for (position, index) in candidates.enumerated() {
            if withTags {
                tagIDs.removeAll(keepingCapacity: true)
                if anyMiss {
                    for tag in batch[index].tags {
                        guard let id = tags.cached(tag) else {
                            let why = refused[TagDictionary.Key(tag)] ?? .init(detail: "not found in the dictionary")
                            plan.rejected.append((index, "tag (\(tag.key.prefix(64)), \(tag.value.prefix(64))): \(why.detail)"))
                            if why.overBudget { plan.overBudget.insert(index) }
                            continue events
                        }
                        if !tagIDs.contains(id) { tagIDs.append(id) }
                    }
                } else {
                    tagIDs.append(contentsOf: foundIDs[foundRanges[position]])
                }
            }
            let target: Int
            let rows: Range<Int>
            if let family = batch[index].family, family.isTyped {
                guard !batch[index].rows.isEmpty else {
                    plan.rejected.append((index, "no typed row for family \(family.name)"))
                    continue
                }
                if lastTarget == nil || lastTarget!.family != family {
                    let index = try targetIndex(typed: family, in: &plan)
                    lastTarget = (family, index, plan.targets[index].types, plan.targets[index].layout.fieldCount)
                }
                target = lastTarget!.index
                let start = plan.targets[target].buffer.count
                if let problem = BatchPlan.encodeTyped(batch[index], family: family, types: lastTarget!.types,
                                                       tagIDs: tagIDs[...], into: &plan.targets[target].buffer,
                                                       fieldCount: lastTarget!.fieldCount) {
                    plan.rejected.append((index, problem))
                    continue
                }
                rows = start..<plan.targets[target].buffer.count
            } else {
                target = try targetIndex(typed: nil, in: &plan)
                let start = plan.targets[target].buffer.count
                BatchPlan.encodeGeneric(batch[index], tagIDs: tagIDs[...], into: &plan.targets[target].buffer)
                rows = start..<plan.targets[target].buffer.count
            }
            let identityStart = plan.identityBuffer.count
            if withIdentity, let digest = digests[index] {
                BatchPlan.encodeIdentity(eventID: batch[index].eventID, digest: digest, into: &plan.identityBuffer)
            }
            plan.planned.append(.init(input: index, target: target, rows: rows, identity: identityStart..<plan.identityBuffer.count))
        }
        return plan
    }

    /// The plan's target for a family (nil: the generic table), added on first use. A target is
    /// one table *and* one column layout: a batch can hold one family's events from two plugin
    /// versions (a writer merges queued batches across an upgrade; two plugins may serve
    /// different versions of a family), and each must be copied with its own column list.
    private func targetIndex(typed family: FamilyDescriptor?, in plan: inout BatchPlan) throws(PGError) -> Int {
        let table = family?.tableName ?? "events"
        if let index = plan.targets.firstIndex(where: { $0.layout.table == table && (family.map($0.layout.matches) ?? true) }) {
            return index
        }
        let layout: TableLayout
        if let family {
            if let known = typedLayouts[family.name]?.first(where: { $0.matches(family) }) {
                layout = known
            } else {
                layout = try TableLayout.typed(family, on: connection)
                typedLayouts[family.name, default: []].insert(layout, at: 0)
                if typedLayouts[family.name]!.count > 4 { typedLayouts[family.name]!.removeLast() }
                // The table may have gained columns since its staging table was made.
                stagesReady.remove(layout.table)
            }
        } else if let known = genericLayout {
            layout = known
        } else {
            layout = try TableLayout.generic(on: connection)
            genericLayout = layout
        }
        plan.targets.append(.init(layout: layout, buffer: TupleBuffer(reserving: 64 * 1024),
                                  types: family?.columns.map(\.type) ?? []))
        return plan.targets.count - 1
    }

    /// Creates missing monthly partitions outside the batch transaction. A month whose partition
    /// Postgres refuses for data reasons (e.g. a date out of range) rejects its events.
    private func ensurePartitions(_ plan: inout BatchPlan, batch: [StoredEvent]) throws(PGError) {
        for key in partitions.missing(plan.partitionKeys(batch)) {
            do throws(PGError) {
                try partitions.ensure(key, on: connection)
            } catch where error.kind == .data {
                plan.reject(month: key.month, table: key.table, reason: EventWriter.describe(error), batch: batch)
            }
        }
    }

    // MARK: - transactions

    private func commit(_ plan: BatchPlan) throws(PGError) -> Outcome {
        let all = plan.planned[...]
        var failure: PGError?
        if !plan.mayHaveRedeliveries {
            do throws(PGError) {
                try writeFast(plan, all)
                return Outcome(inserted: all.count)
            } catch where error.sqlState == "23505" {
                logger.debug("store_dedup_fallback", metadata: ["reason": "\(error.message)"])
            } catch where EventWriter.isEventError(error) {
                failure = error
            }
        }
        try ensureStages(plan)
        if failure == nil {
            do throws(PGError) {
                let (inserted, conflicts) = try connection.transaction { () throws(PGError) -> (Int, Set<EventUUID>) in
                    try writeDedup(plan, all, move: false)
                }
                return Outcome(inserted: inserted, conflicts: conflicts, dedup: true)
            } catch where EventWriter.isEventError(error) {
                failure = error
            }
        }
        guard let failure else { return Outcome(dedup: true) }
        logger.debug("store_isolating", metadata: ["events": "\(all.count)", "reason": "\(failure.message)"])
        var outcome = Outcome(dedup: true)
        try connection.transaction { () throws(PGError) in
            try isolate(plan, all, knownFailure: failure, into: &outcome)
        }
        return outcome
    }

    /// Writes `events` under a savepoint; on a data error rolls back to it and halves, down to
    /// single events, which are rejected. Runs inside the batch transaction.
    private func isolate(_ plan: BatchPlan, _ events: ArraySlice<BatchPlan.Planned>, knownFailure: PGError?,
                         into outcome: inout Outcome) throws(PGError) {
        guard !events.isEmpty else { return }
        if let knownFailure {
            if events.count == 1, let event = events.first {
                outcome.rejected.append((event.input, EventWriter.describe(knownFailure)))
                return
            }
            let middle = events.startIndex + events.count / 2
            try isolate(plan, events[..<middle], knownFailure: nil, into: &outcome)
            try isolate(plan, events[middle...], knownFailure: nil, into: &outcome)
            return
        }
        try connection.execute("SAVEPOINT dk_isolate")
        do throws(PGError) {
            let (inserted, conflicts) = try writeDedup(plan, events, move: true)
            outcome.inserted += inserted
            outcome.conflicts.formUnion(conflicts)
            try connection.execute("RELEASE SAVEPOINT dk_isolate")
        } catch where EventWriter.isEventError(error) {
            try connection.execute("ROLLBACK TO SAVEPOINT dk_isolate; RELEASE SAVEPOINT dk_isolate")
            try isolate(plan, events, knownFailure: error, into: &outcome)
        }
    }

    /// Binary COPY straight into the tables, as one transaction of one query string
    /// (`PGConnection.copyTransaction`: three round trips for a typed family and its tags).
    private func writeFast(_ plan: BatchPlan, _ events: ArraySlice<BatchPlan.Planned>) throws(PGError) {
        var statements: [String] = []
        var sources: [(buffer: TupleBuffer, ranges: [Range<Int>])] = []
        // Identities first: an event stored before fails here, before any row is sent.
        let identities = events.map(\.identity).filter { !$0.isEmpty }
        if !identities.isEmpty {
            statements.append(IdentitySQL.copy)
            sources.append((plan.identityBuffer, identities))
        }
        for (index, target) in plan.targets.enumerated() {
            let ranges = events.filter { $0.target == index }.map(\.rows)
            guard !ranges.isEmpty else { continue }
            statements.append(target.layout.copySQL)
            sources.append((target.buffer, ranges))
        }
        guard !statements.isEmpty else { return }
        try connection.copyTransaction(statements) { i, writer in
            try Self.stream(sources[i].buffer, ranges: sources[i].ranges, into: &writer)
        }
    }

    /// Binary COPY into the staging tables, then moved with ON CONFLICT DO NOTHING. Returns the
    /// number of events newly inserted. `move` also empties the stages (several calls in one
    /// transaction); otherwise COMMIT does (ON COMMIT DELETE ROWS).
    private func writeDedup(_ plan: BatchPlan, _ events: ArraySlice<BatchPlan.Planned>,
                            move: Bool) throws(PGError) -> (inserted: Int, conflicts: Set<EventUUID>) {
        var inserted = 0
        var conflicts: Set<EventUUID> = []
        // Claim the identities not taken yet; rows are written only for those.
        try copy(IdentitySQL.stageCopy, from: plan.identityBuffer, ranges: events.lazy.map(\.identity).filter { !$0.isEmpty })
        try connection.execute(IdentitySQL.claim)
        for row in try connection.query(IdentitySQL.conflicts).rows {
            if let text = row.first ?? nil, let id = EventUUID(text) { conflicts.insert(id) }
        }
        try connection.execute(IdentitySQL.clearStage)
        for (index, target) in plan.targets.enumerated() {
            let ranges = events.lazy.filter { $0.target == index }.map(\.rows)
            guard !ranges.isEmpty else { continue }
            // Targets of one table (two column layouts) share its staging table: each empties
            // it, so the next one's insert does not read its rows again.
            let shared = plan.targets.indices.contains { $0 != index && plan.targets[$0].layout.table == target.layout.table }
            try copy(target.layout.stageCopySQL, from: target.buffer, ranges: ranges)
            let result = try connection.query(move || shared ? target.layout.moveSQL : target.layout.insertSQL)
            inserted += result.scalar.flatMap { Int($0) } ?? 0
        }
        return (inserted, conflicts)
    }

    /// Streams header, the given tuple ranges (adjacent ones merged) and trailer as one COPY.
    private func copy(_ sql: String, from buffer: TupleBuffer, ranges: some Sequence<Range<Int>>) throws(PGError) {
        try connection.copyIn(sql) { writer in try Self.stream(buffer, ranges: ranges, into: &writer) }
    }

    private static func stream(_ buffer: TupleBuffer, ranges: some Sequence<Range<Int>>,
                               into writer: inout CopyWriter) throws(PGError) {
        try writer.write(TupleBuffer.streamHeader)
        var pending: Range<Int>?
        for range in ranges {
            if let open = pending, open.upperBound == range.lowerBound {
                pending = open.lowerBound..<range.upperBound
            } else {
                if let open = pending { try writer.write(buffer.bytes[open]) }
                pending = range
            }
        }
        if let open = pending { try writer.write(buffer.bytes[open]) }
        try writer.write(TupleBuffer.streamTrailer)
    }

    /// Creates the TEMP staging tables the plan needs, outside any transaction (a table created
    /// in a batch transaction that rolls back would vanish behind the cache's back).
    private func ensureStages(_ plan: BatchPlan) throws(PGError) {
        for target in plan.targets where !stagesReady.contains(target.layout.table) {
            try connection.execute(target.layout.stageCreateSQL)
            stagesReady.insert(target.layout.table)
        }
        if !identityStageReady {
            try connection.execute(IdentitySQL.stageCreate)
            identityStageReady = true
        }
    }

    static let maxAttempts = 3

    /// Deadlock and serialization failure: the transaction was rolled back and may simply run again.
    static func isTransient(_ error: PGError) -> Bool {
        error.sqlState == "40P01" || error.sqlState == "40001"
    }

    /// Errors some event of the batch is to blame for: data errors (SQLSTATE classes 22 and 23)
    /// and program limits (class 54: e.g. a JSON document nested too deep), which would fail
    /// every retry of the batch just the same.
    static func isEventError(_ error: PGError) -> Bool {
        error.kind == .data || error.sqlState?.hasPrefix("54") == true
    }

    static func describe(_ error: PGError) -> String {
        "\(error.message) (SQLSTATE \(error.sqlState ?? error.reasonCode))"
    }
}
