import KernelCore
import KernelPostgres
import Logging
import Synchronization
import Testing

/// The breaker as the writers and the replayer share it (`PostgresHealth`, docs/operations.md,
/// "Postgres outages: the spill"), on an injected clock; the breaker's own state machine is
/// tested in KernelRuntimeTests.
@Suite("Postgres health")
struct PostgresHealthTests {
    @Test func startingUpIsRecognisedInLibpqsConnectError() {
        let message = "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  the database system is starting up"
        let error = PGError(sqlState: PGError.connectFailureState(message), message: message, connectionBad: true)
        #expect(error.isServerStarting && error.kind == .connectivity)
        let down = "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused"
        #expect(!PGError(sqlState: PGError.connectFailureState(down), message: down, connectionBad: true).isServerStarting)
    }

    @Test func sharedHealthFollowsTheInjectedClock() {
        let now = Atomic<UInt64>(0)
        let health = PostgresHealth(threshold: 2, timeoutSeconds: 1, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() },
                                    clock: { now.load(ordering: .relaxed) })
        #expect(health.allowsAttempt())
        health.recordFailure(reasonCode: "pg_connection_failure")
        health.recordFailure(reasonCode: "pg_connection_failure")
        #expect(health.state == .open)
        #expect(health.gaugeValue == 2)
        #expect(!health.allowsAttempt())
        now.store(1_000_000_000, ordering: .relaxed)
        #expect(health.state == .halfOpen)
        health.recordSuccess()
        #expect(health.state == .closed)
        #expect(health.gaugeValue == 0)
    }
}
