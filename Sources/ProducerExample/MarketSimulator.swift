import KernelEvents
import KernelJSON

/// Invents plausible market data for one instrument: a random-walk mid price in cents, trades
/// around it, a two-sided quote, a five-level book (a snapshot, then deltas) and one-second bars.
/// Prices are written as exact decimals (`187.25`), never through Double.
struct MarketSimulator {
    let venue: String
    let symbol: String
    private var midCents: Int64
    private var tradeNumber = 0
    private var bookSequence: Int64 = 0
    private var generator = SystemRandomNumberGenerator()

    init(venue: String, symbol: String, startCents: Int64 = 18_725) {
        self.venue = venue
        self.symbol = symbol
        midCents = startCents
    }

    /// The payload of the next `family` event, observed at `nanos` (Unix ns, UTC).
    mutating func next(_ family: MarketFamily, nanos: Int64) -> JSONValue {
        midCents = max(100, midCents + Int64.random(in: -2...2, using: &generator))
        let exchangeTS = JSONValue.string(RFC3339.format(nanos: nanos))
        var members: [(key: String, value: JSONValue)] = [("venue", .string(venue)), ("symbol", .string(symbol))]
        switch family {
        case .trade:
            tradeNumber += 1
            let buy = Bool.random(using: &generator)
            members += [
                ("price", Self.price(midCents + (buy ? 1 : -1))),
                ("size", .number(String(Int.random(in: 1...50, using: &generator) * 10))),
                ("side", .string(buy ? "buy" : "sell")),
                ("trade_id", .string("T-\(tradeNumber)")),
                ("exchange_ts", exchangeTS),
            ]
        case .quote:
            members += [
                ("bid_price", Self.price(midCents - 1)), ("bid_size", .number(String(Int.random(in: 1...20, using: &generator) * 100))),
                ("ask_price", Self.price(midCents + 1)), ("ask_size", .number(String(Int.random(in: 1...20, using: &generator) * 100))),
                ("exchange_ts", exchangeTS),
            ]
        case .book:
            // A full snapshot first (and every 100 updates), deltas in between.
            bookSequence += 1
            let snapshot = bookSequence % 100 == 1
            let depth = snapshot ? 5 : 1
            let bids = (0..<depth).map { level in
                JSONValue.array([Self.price(midCents - 1 - Int64(level)), .number(String(Int.random(in: 0...30, using: &generator) * 10))])
            }
            let asks = (0..<depth).map { level in
                JSONValue.array([Self.price(midCents + 1 + Int64(level)), .number(String(Int.random(in: 0...30, using: &generator) * 10))])
            }
            // A snapshot level needs a size above zero; a delta with size 0 removes the level.
            let fix: (JSONValue) -> JSONValue = { level in
                guard snapshot, case .array(let pair) = level, pair[1] == .number("0") else { return level }
                return .array([pair[0], .number("10")])
            }
            members += [
                ("type", .string(snapshot ? "snapshot" : "delta")),
                ("sequence", .number(String(bookSequence))),
                ("bids", .array(bids.map(fix))), ("asks", .array(asks.map(fix))),
                ("exchange_ts", exchangeTS),
            ]
        case .bar:
            let second = nanos / 1_000_000_000
            let open = midCents + Int64.random(in: -3...3, using: &generator)
            let close = midCents
            let high = max(open, close) + Int64.random(in: 0...3, using: &generator)
            let low = min(open, close) - Int64.random(in: 0...3, using: &generator)
            members += [
                ("interval", .string("1s")),
                ("start", .string(RFC3339.format(nanos: second * 1_000_000_000))),
                ("open", Self.price(open)), ("high", Self.price(high)), ("low", Self.price(low)), ("close", Self.price(close)),
                ("volume", .number(String(Int.random(in: 100...5000, using: &generator)))),
                ("trades", .number(String(Int.random(in: 1...40, using: &generator)))),
                ("exchange_ts", exchangeTS),
            ]
        }
        return .object(JSONObject(members))
    }

    /// Cents as an exact decimal number, e.g. 18725 → `187.25`.
    static func price(_ cents: Int64) -> JSONValue {
        let fraction = cents % 100
        return .number("\(cents / 100).\(fraction < 10 ? "0" : "")\(fraction)")
    }
}
