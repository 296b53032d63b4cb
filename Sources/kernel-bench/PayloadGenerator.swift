/// Deterministic payloads per family (fixed seed), shaped like real market data: the plugin
/// benchmark's input.
struct PayloadGenerator {
    var random = SeededRandom(seed: 0x5EED_2026)
    mutating func next() -> UInt64 { random.next() }
    mutating func price() -> String { let c = 18_000 + Int(next() % 2_000); return "\(c / 100).\(format2(c % 100))" }
    mutating func size() -> String { String(1 + next() % 5_000) }
    func format2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    static let symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "BRK.B"]
    mutating func symbol() -> String { Self.symbols[Int(next() % UInt64(Self.symbols.count))] }

    mutating func payload(family: String) -> String {
        let ts = "2026-11-25T14:30:00.\(100_000_000 + Int(next() % 899_999_999))Z"
        switch family {
        case "trade":
            return #"{"venue":"XNAS","symbol":"\#(symbol())","price":"\#(price())","size":"\#(size())","side":"\#(next() % 2 == 0 ? "buy" : "sell")","trade_id":"T\#(next() % 10_000_000)","exchange_ts":"\#(ts)"}"#
        case "quote":
            return #"{"venue":"XNAS","symbol":"\#(symbol())","bid_price":"\#(price())","bid_size":"\#(size())","ask_price":"\#(price())","ask_size":"\#(size())","exchange_ts":"\#(ts)"}"#
        case "book":
            var bids: [String] = [], asks: [String] = []
            for _ in 0..<10 { bids.append(#"["\#(price())","\#(size())"]"#); asks.append(#"["\#(price())","\#(size())"]"#) }
            return #"{"venue":"XNAS","symbol":"\#(symbol())","type":"snapshot","sequence":\#(next() % 1_000_000),"bids":[\#(bids.joined(separator: ","))],"asks":[\#(asks.joined(separator: ","))],"exchange_ts":"\#(ts)"}"#
        case "bar":
            return #"{"venue":"XNAS","symbol":"\#(symbol())","interval":"1m","start":"2026-11-25T14:30:00Z","open":"187.10","high":"187.90","low":"186.95","close":"187.42","volume":"\#(size())","trades":\#(next() % 500),"vwap":"187.33","exchange_ts":"\#(ts)"}"#
        default:
            return #"{"value":\#(next() % 1000)}"#
        }
    }
}
