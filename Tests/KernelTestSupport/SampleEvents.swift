/// Event texts more than one test module parses.
public enum SampleEvents {
    /// A ~450-byte trade event as producers send it: every JSON value kind, escapes in a tag.
    public static let trade = """
        {"event_id":"0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21","ts":"2024-07-15T14:30:01.123456789Z",\
        "subject_id":"3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d","payload":{"symbol":"AAPL","price":187.2500,\
        "size":300,"exchange":"XNAS","conditions":["@","F","T"],"bid":187.24,"ask":187.26,"seq":1234567890123,\
        "venue_ts":"2024-07-15T14:30:01.120000000Z","odd_lot":false,"notional":-1e-7,"note":null},\
        "tags":[{"key":"core.symbol","value":"AAPL"},{"key":"core.venue","value":"XNAS"},\
        {"key":"desk","value":"equities-\\u00e9t\\u00e9"}]}
        """

    /// Every proper prefix of `trade`'s bytes, shortest (empty) first, so `truncatedTrade[n]` is
    /// its first n bytes: the cut-off inputs the hostile-input tests of the parsers feed them.
    public static let truncatedTrade: [[UInt8]] = {
        let bytes = Array(trade.utf8)
        return (0..<bytes.count).map { Array(bytes[0..<$0]) }
    }()
}
