import Synchronization

/// Live counters of the onboarding flows (docs/admin.md, "Metrics"), for the metrics exporter. Plain
/// atomics: this module does not depend on a metrics library.
public final class OnboardingMetrics: Sendable {
    /// `kernel_registration_rate_limited_total`: requests refused by the rate limiter (every op).
    public let rateLimited = Atomic<Int>(0)
    /// `kernel_registration_rate_limit_errors_total`: limiter failures (Redis error; fail closed).
    public let rateLimitErrors = Atomic<Int>(0)
    /// `kernel_canonical_verify_fail_total`: request signatures that did not verify.
    public let canonicalVerifyFailures = Atomic<Int>(0)
    /// Tokens issued by exchange or renewal.
    public let tokensIssued = Atomic<Int>(0)
    private let outcomes = Mutex<[String: Int]>([:])
    /// Registration persist times not yet observed (`kernel_registration_persist_seconds`;
    /// drained at each scrape; registrations are rare, the list is short).
    private let persistTimes = Mutex<[Double]>([])
    private let rateDecisions = Mutex<[String: Int]>([:])

    public init() {}

    /// Counts one registration/deregistration outcome (`kernel_registration_outcome_total`),
    /// keyed by status (`approved`, `pending`, `invalid_cert`, `rate_limited`, …).
    public func outcome(_ status: String) {
        outcomes.withLock { $0[status, default: 0] += 1 }
    }

    /// One registration or deregistration transaction took `seconds`.
    public func persisted(seconds: Double) {
        persistTimes.withLock { if $0.count < 10_000 { $0.append(seconds) } }
    }

    /// The persist times recorded since the last call.
    public func drainPersistTimes() -> [Double] {
        persistTimes.withLock { times in defer { times = [] }; return times }
    }

    /// Registration outcomes so far, by status.
    public var outcomesByStatus: [String: Int] { outcomes.withLock { $0 } }

    /// Counts a limiter decision for `op` (`kernel_rate_limit_allow_total{op}` /
    /// `kernel_rate_limit_deny_total{op}`).
    public func rateDecision(op: String, allowed: Bool) {
        rateDecisions.withLock { $0[(allowed ? "allow:" : "deny:") + op, default: 0] += 1 }
    }

    /// Limiter decisions so far: `(op, allowed) → count`.
    public var rateDecisionsByOp: [(op: String, allowed: Bool, count: Int)] {
        rateDecisions.withLock { table in
            table.map { key, count in
                let allowed = key.hasPrefix("allow:")
                return (String(key.dropFirst(allowed ? 6 : 5)), allowed, count)
            }.sorted { ($0.op, $0.allowed ? 1 : 0) < ($1.op, $1.allowed ? 1 : 0) }
        }
    }
}
