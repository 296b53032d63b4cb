import KernelRedis

/// Redis' own count of the calls and microseconds it spent per command (`INFO commandstats`),
/// read before and after a drain: what XREADGROUP and XACK cost Redis per event. The counters
/// are server-wide: another client of the same Redis during the run is counted too.
struct RedisCommandStats {
    struct Command { var calls: Int; var usec: Int }
    var commands: [String: Command]

    static func read(_ redis: RedisConnection) throws -> RedisCommandStats {
        let text = try redis.command(["INFO", "commandstats"]).text ?? ""
        var commands: [String: Command] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[line.index(line.startIndex, offsetBy: 8)..<colon])
            var calls = 0, usec = 0
            for field in line[line.index(after: colon)...].split(separator: ",") {
                let parts = field.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                if parts[0] == "calls" { calls = Int(parts[1]) ?? 0 }
                if parts[0] == "usec" { usec = Int(parts[1]) ?? 0 }
            }
            commands[name] = Command(calls: calls, usec: usec)
        }
        return RedisCommandStats(commands: commands)
    }

    /// "xreadgroup 412 calls (971 events each), 0.52 µs/event; xack …" for `events` events.
    func summary(since start: RedisCommandStats, events: Int, names: [String] = ["xreadgroup", "xack"]) -> String {
        names.map { name in
            let a = start.commands[name] ?? Command(calls: 0, usec: 0), b = commands[name] ?? Command(calls: 0, usec: 0)
            let calls = b.calls - a.calls, usec = b.usec - a.usec
            let each = calls > 0 ? Fmt.fixed(Double(events) / Double(calls), 0) : "-"
            return "\(name) \(Fmt.grouped(calls)) calls (\(each) events each), \(Fmt.fixed(Double(usec) / Double(max(1, events)), 2)) µs/event"
        }.joined(separator: "; ")
    }
}
