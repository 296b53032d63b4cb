import KernelPlugins
import Logging
import Testing

/// Which message reaches the DLQ: the plugin's own when it returns an error (docs/plugins.md),
/// the host's otherwise, and the host's names columns by name.
@Suite("Plugin messages")
struct PluginMessageTests {
    func failure(_ payload: String) -> NormalizeFailure? {
        let out = OutputContractTests.instance.normalize(EventInput(
            family: "tick", schemaVersion: 1, eventID: "0190f5c2-7b7e-7000-8000-000000000001",
            subjectID: "0190f5c2-7b7e-7000-8000-0000000000aa", tsUnixNanos: 1_764_000_000_000_000_000,
            payload: Array(payload.utf8)))
        if case .failure(let f) = out { return f }
        return nil
    }

    @Test func thePluginsOwnErrorWinsOverAnEarlierHostRefusal() {
        let f = failure(#"{"price":1,"mode":"bad_numeric_own_error"}"#)
        #expect(f?.message == "price: the plugin's own words")
        #expect(f?.kind == .invalidPayload)
    }

    @Test func aHostRefusalTheSilentPluginIgnoredNamesTheColumnByName() {
        let text = failure(#"{"price":1,"mode":"bad_text"}"#)
        #expect(text?.message.hasPrefix("set_text: column side:") == true, "\(String(describing: text))")
        let numeric = failure(#"{"price":1,"mode":"bad_numeric"}"#)
        #expect(numeric?.message.hasPrefix("set_numeric: column price:") == true, "\(String(describing: numeric))")
    }

    /// The test plugin with `normalize_batch` (Tests/Fixtures/c/testplugin.c, -DWITH_BATCH).
    static let batchInstance: PluginInstance = {
        let dir = try! TestPluginBuilder.makeTempDir()
        let path = try! TestPluginBuilder.build("libtick_batch.so", in: dir, defines: ["WITH_BATCH"])
        return try! PluginLoader.load(path: path).instantiate(logger: Logger(label: "t"))
    }()

    /// One `normalize_batch` call: an event it normalized, one it failed with `fail_event`, one
    /// whose value the host refused just before the plugin failed the whole call with its own
    /// message, and one it never reached. The DLQ detail of each failed event is this message.
    @Test func theMessageOfAFailedBatchCallWinsOverAnEarlierHostRefusal() throws {
        let modes = ["ok", "fail", "bad_numeric_batch_error", "ok"]
        let events = modes.enumerated().map { i, mode in
            EventInput(family: "tick", schemaVersion: 1, eventID: "0190f5c2-7b7e-7000-8000-00000000000\(i)",
                       subjectID: "0190f5c2-7b7e-7000-8000-0000000000aa", tsUnixNanos: 1_764_000_000_000_000_000,
                       payload: Array(#"{"price":1,"mode":"\#(mode)"}"#.utf8))
        }
        try #require(Self.batchInstance.descriptor.hasBatchNormalize, "the plugin exports normalize_batch")
        let failures = Self.batchInstance.normalizeBatch(events).map { result -> NormalizeFailure? in
            if case .failure(let f) = result { return f }
            return nil
        }
        try #require(failures.count == 4)
        // The host's own refusal of the bad value, for comparison: what the batch message replaces.
        let single = Self.batchInstance.normalize(EventInput(
            family: "tick", schemaVersion: 1, eventID: "0190f5c2-7b7e-7000-8000-000000000009",
            subjectID: "0190f5c2-7b7e-7000-8000-0000000000aa", tsUnixNanos: 1_764_000_000_000_000_000,
            payload: Array(#"{"price":1,"mode":"bad_numeric"}"#.utf8)))
        if case .failure(let refusal) = single {
            #expect(refusal.message.hasPrefix("set_numeric: column price:"), "\(refusal)")
        } else {
            Issue.record("the host accepted NaN as a numeric")
        }
        #expect(failures[2]?.message == "batch: the plugin's own words", "\(String(describing: failures[2]))")
        #expect(failures[2]?.kind == .invalidPayload)
        #expect(failures[1]?.message == "payload refused on purpose", "fail_event's message stays")
        for i in [0, 3] {
            #expect(failures[i]?.message == "batch: the plugin's own words", "event \(i): \(String(describing: failures[i]))")
        }
    }
}
