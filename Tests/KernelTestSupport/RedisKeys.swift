import KernelRedis

extension RedisConnection {
    /// Deletes every key under `prefix`, what one test wrote (each test keeps to its own prefix on
    /// the shared Redis). Best effort: a tear-down removes what it can.
    public func deleteKeys(prefix: String) {
        guard let keys = try? command(["KEYS", prefix + "*"]).array else { return }
        for key in keys { if let k = key.text { _ = try? command(["DEL", k]) } }
    }
}
