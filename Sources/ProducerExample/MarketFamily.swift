import KernelJSON

/// The four schema families of the example plugins (Plugins/Trade, Quote, Book, Bar), with the
/// schema body the producer registers for each. A body must agree with the plugin's declared
/// payload schema (docs/plugins.md, "Subject registration and the payload schema"); these are
/// the plugins' own declarations.
enum MarketFamily: String, CaseIterable {
    case trade, quote, book, bar

    var schemaBody: JSONValue {
        // The texts are constants; a parse failure would be a typo caught by the first run.
        try! JSONParser.parse(schemaText)
    }

    private var schemaText: String {
        switch self {
        case .trade:
            #"""
            {"type":"object","required":["venue","symbol","price","size"],"properties":{
             "venue":{"type":"string"},"symbol":{"type":"string"},
             "price":{"type":["number","string"]},"size":{"type":["number","string"]},
             "side":{"type":"string","enum":["buy","sell","unknown"]},
             "trade_id":{"type":"string"},"exchange_ts":{"type":"string"}}}
            """#
        case .quote:
            #"""
            {"type":"object","required":["venue","symbol"],"properties":{
             "venue":{"type":"string"},"symbol":{"type":"string"},
             "bid_price":{"type":["number","string","null"]},"bid_size":{"type":["number","string","null"]},
             "ask_price":{"type":["number","string","null"]},"ask_size":{"type":["number","string","null"]},
             "exchange_ts":{"type":["string","null"]}}}
            """#
        case .book:
            #"""
            {"type":"object","required":["venue","symbol","type","bids","asks"],"properties":{
             "venue":{"type":"string"},"symbol":{"type":"string"},
             "type":{"type":"string","enum":["snapshot","delta"]},"sequence":{"type":"integer"},
             "bids":{"type":"array","items":{"type":"array","items":{"type":["number","string"]}}},
             "asks":{"type":"array","items":{"type":"array","items":{"type":["number","string"]}}},
             "exchange_ts":{"type":"string"}}}
            """#
        case .bar:
            #"""
            {"type":"object","required":["venue","symbol","interval","start","open","high","low","close","volume"],
             "properties":{"venue":{"type":"string"},"symbol":{"type":"string"},"interval":{"type":"string"},
             "start":{"type":"string"},"open":{"type":["number","string"]},"high":{"type":["number","string"]},
             "low":{"type":["number","string"]},"close":{"type":["number","string"]},
             "volume":{"type":["number","string"]},"trades":{"type":"integer"},
             "vwap":{"type":["number","string"]},"exchange_ts":{"type":"string"}}}
            """#
        }
    }
}
