import Foundation

/// Waiting for what another thread or process does, without asserting on time.
public enum Polling {
    /// Checks `condition` every `interval` seconds until it holds or `timeout` passes; returns
    /// whether it held. A condition that throws counts as not (yet) holding.
    public static func until(timeout: Double, every interval: Double, _ condition: () throws -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return true }
            Thread.sleep(forTimeInterval: interval)
        }
        return (try? condition()) == true
    }
}
