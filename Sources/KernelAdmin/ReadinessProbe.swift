import KernelPostgres
import KernelRedis

/// `/readyz`: a Redis PING and a Postgres `SELECT 1` on the probe worker (its own connections,
/// short timeouts), plus the spill state the daemon reports.
struct ReadinessProbe: Sendable {
    struct State: Sendable, Equatable {
        var ready: Bool
        var body: String
    }

    let worker: BlockingWorker
    let spillState: @Sendable () -> String?
    /// Non-nil while part of ingest waits (families parked because no plugin serves them).
    var degradedState: @Sendable () -> String? = { nil }

    /// 200 `ready` (or `degraded: …`) when both answer; otherwise 503 `not ready: …`
    /// naming what is unreachable. Postgres down is 503 even while spilling: the kernel keeps
    /// ingesting, but its control plane and reviews need the database.
    func check() async -> State {
        let (redisOK, postgresOK) = await worker.run { connections -> (Bool, Bool) in
            let redisOK: Bool
            do throws(RedisError) {
                let reply = try connections.withRedis { redis throws(RedisError) in try redis.command(["PING"]) }
                redisOK = reply.text == "PONG"
            } catch {
                redisOK = false
            }
            let postgresOK: Bool
            do throws(PGError) {
                let result = try connections.withPostgres { pg throws(PGError) in try pg.query("SELECT 1") }
                postgresOK = result.scalar == "1"
            } catch {
                postgresOK = false
            }
            return (redisOK, postgresOK)
        }
        var down: [String] = []
        if !redisOK { down.append("redis unreachable") }
        if !postgresOK { down.append("postgres unreachable") }
        guard down.isEmpty else { return State(ready: false, body: "not ready: " + down.joined(separator: ", ")) }
        // Exactly one of ready / degraded / not ready (docs/admin.md).
        var degraded: [String] = []
        if let spill = spillState() { degraded.append("spilling (\(spill))") }
        if let other = degradedState() { degraded.append(other) }
        if !degraded.isEmpty { return State(ready: true, body: "degraded: " + degraded.joined(separator: "; ")) }
        return State(ready: true, body: "ready")
    }
}
