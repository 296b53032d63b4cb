import KernelEvents
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the ingest path must refuse from now on, shared by everything in one kernel process that
/// changes it or checks it (docs/architecture.md, "Deregistrations and revocations").
///
/// - The control-stream handlers and the admin API `record` a change once it is committed and
///   before they answer, so every entry this kernel reads after the answer is checked against it.
/// - The notification listener records what other kernels announce (only what refuses more: a
///   forged message cannot let anything in) and asks for a reload from Postgres
///   (`requestReload`), which also brings re-enabled producers and anything missed.
/// - Each processor's `IngestDirectory` applies new changes before each chunk of entries; when
///   nothing changed that costs one atomic load.
///
/// Changes are kept `retentionSeconds` (and at most `maxKept`): long enough for every processor to
/// apply them or to re-read Postgres, which holds them by then (they are recorded after commit).
public final class IngestRevocations: Sendable {
    public enum Change: Sendable, Equatable {
        case tokenRevoked(jti: String)
        case producerDisabled(EventUUID)
        case producerEnabled(EventUUID)

        /// `revoked <jti>`, `disabled <producer>`, `enabled <producer>`: the notification text
        /// after the origin (see `message`).
        var text: String {
            switch self {
            case .tokenRevoked(let jti): "revoked " + jti
            case .producerDisabled(let id): "disabled " + id.description
            case .producerEnabled(let id): "enabled " + id.description
            }
        }
    }

    struct Recorded {
        var seq: UInt64
        var at: Double
        var change: Change
    }

    struct State {
        var log: [Recorded] = []
        var seq: UInt64 = 0
        var reloads: UInt64 = 0
    }

    /// What `changes(after:)` answers.
    public struct Pending: Sendable {
        /// Recorded after the given sequence number, oldest first.
        public var changes: [Change]
        /// The newest sequence number (pass it next time).
        public var last: UInt64
        /// Changes after the given number were already dropped: re-read Postgres.
        public var gap: Bool
        /// Counts `requestReload` calls: a new value asks for a re-read of Postgres.
        public var reloads: UInt64
    }

    static let retentionSeconds = 600.0
    static let maxKept = 65_536

    /// Identifies this process in the notifications it sends, so its listener skips its own.
    public let origin: String
    private let state = Mutex(State())
    /// Bumped after every change and reload request: the processors' "anything new?" check.
    private let version = Atomic<UInt64>(0)

    public init() {
        var bytes: [UInt8] = []
        for _ in 0..<8 { bytes.append(UInt8.random(in: 0...255)) }
        origin = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The pub/sub channel kernels sharing `keyPrefix` announce changes on.
    public static func channel(keyPrefix: String) -> String { keyPrefix + "ingest:revocations" }

    /// The notification for `change`: `<origin> <change text>`.
    public func message(for change: Change) -> String { origin + " " + change.text }

    /// Parses a notification; nil when it is not one (or is this process's own).
    public func parse(_ message: String) -> Change? {
        let parts = message.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] != origin, !parts[2].isEmpty else { return nil }
        let value = String(parts[2])
        switch parts[1] {
        case "revoked": return .tokenRevoked(jti: value)
        case "disabled": return EventUUID(value).map { .producerDisabled($0) }
        case "enabled": return EventUUID(value).map { .producerEnabled($0) }
        default: return nil
        }
    }

    /// Records a committed change: every chunk of entries processed from now on is checked
    /// against it.
    public func record(_ change: Change) {
        let now = Self.monotonicSeconds()
        state.withLock { s in
            s.seq += 1
            s.log.append(Recorded(seq: s.seq, at: now, change: change))
            var drop = 0
            while drop < s.log.count - 1,
                  s.log.count - drop > Self.maxKept || now - s.log[drop].at > Self.retentionSeconds { drop += 1 }
            if drop > 0 { s.log.removeFirst(drop) }
        }
        version.wrappingAdd(1, ordering: .releasing)
    }

    /// Asks every processor to re-read revocations and disabled producers from Postgres before
    /// its next chunk (another kernel changed them, or notifications may have been missed).
    public func requestReload() {
        state.withLock { $0.reloads &+= 1 }
        version.wrappingAdd(1, ordering: .releasing)
    }

    /// Changes since the last call when this differs from the previous value.
    public var currentVersion: UInt64 { version.load(ordering: .acquiring) }

    /// The newest sequence number: every change up to it was committed before now.
    public var lastSeq: UInt64 { state.withLock { $0.seq } }

    /// The changes recorded after `seq`.
    public func changes(after seq: UInt64) -> Pending {
        state.withLock { s in
            let first = s.log.first?.seq ?? s.seq + 1
            let gap = seq + 1 < first && seq < s.seq
            let changes = s.log.lazy.filter { $0.seq > seq }.map(\.change)
            return Pending(changes: Array(changes), last: s.seq, gap: gap, reloads: s.reloads)
        }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
