/// Logs a repeated failure once per interval with how often it happened meanwhile, instead of
/// once per occurrence: during an outage a failing lookup per event wrote thousands of error
/// lines a second (docs/operations.md, "Postgres outages").
struct LogThrottle {
    let intervalSeconds: Double
    private var lastLogged = -Double.infinity
    private var suppressed = 0

    init(intervalSeconds: Double = 10) { self.intervalSeconds = intervalSeconds }

    /// Whether to log now, and how many occurrences were held back since the last line.
    mutating func shouldLog(now: Double) -> (log: Bool, suppressed: Int) {
        guard now - lastLogged >= intervalSeconds else {
            suppressed += 1
            return (false, 0)
        }
        lastLogged = now
        defer { suppressed = 0 }
        return (true, suppressed)
    }

    /// The failure is over: the next one is logged at once.
    mutating func reset() {
        lastLogged = -Double.infinity
        suppressed = 0
    }
}
