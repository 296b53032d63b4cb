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
}
