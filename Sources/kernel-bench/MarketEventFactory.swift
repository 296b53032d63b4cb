/// The typed values of one trade, kept so the raw-COPY benchmark writes exactly the rows the
/// kernel wrote.
struct TradeRow {
    var eventID: [UInt8]
    var tsMicros: Int64
    var tsEventMicros: Int64?
    var subjectID: [UInt8]
    var venue: String
    var symbol: String
    var price: String
    var size: String
    var side: String
    var tradeID: String?
}

/// One generated event: the envelope published as the `payload` field, and its trade row.
struct BenchEvent {
    var family: String
    var envelope: String
    var trade: TradeRow?
}

/// Realistic events from a fixed seed: trades, quotes and 10-level book snapshots over eight
/// symbols, each (family, symbol) its own registered subject, in the envelope of docs/protocol.md, "Event envelope".
struct MarketEventFactory {
    /// Percent of trades, quotes and books; they must add up to 100.
    struct Mix: Sendable {
        var trade: Int
        var quote: Int
        var book: Int
        static let tradeOnly = Mix(trade: 100, quote: 0, book: 0)
        static let mixed = Mix(trade: 60, quote: 30, book: 10)
        var families: [String] {
            [("trade", trade), ("quote", quote), ("book", book)].filter { $0.1 > 0 }.map(\.0)
        }
        var label: String { "\(trade)/\(quote)/\(book)" }
    }

    static let symbols = PayloadGenerator.symbols
    var random: SeededRandom
    let mix: Mix
    /// Minimal trades (venue, symbol, price, size, side; no tags): the backlog test.
    let small: Bool
    /// family → symbol index → subject id.
    let subjects: [String: [EventUUIDText]]
    /// How event ids are made: time-ordered v7 (what docs/producers.md recommends and the example
    /// producers send) or random v4.
    let ids: EventIDStyle
    private var tradeCounter = 0

    init(seed: UInt64, mix: Mix, small: Bool = false, subjects: [String: [EventUUIDText]], ids: EventIDStyle = .v7) {
        random = SeededRandom(seed: seed)
        self.ids = ids
        self.mix = mix
        self.small = small
        self.subjects = subjects
    }

    /// The next event with envelope `ts` = `tsMicros`; `tradeID` overrides the trade id (the
    /// latency test encodes the sequence number there).
    mutating func next(tsMicros: Int64, tradeID: String? = nil) -> BenchEvent {
        let roll = random.below(100)
        let family = roll < mix.trade ? "trade" : roll < mix.trade + mix.quote ? "quote" : "book"
        let symbolIndex = random.below(Self.symbols.count)
        let symbol = Self.symbols[symbolIndex]
        let subject = subjects[family]![symbolIndex]
        let id = ids == .v7 ? random.uuidV7(unixMillis: tsMicros / 1000) : random.uuid()
        // The venue stamped the event 0–5 ms before the producer did.
        let exchangeMicros = tsMicros - Int64(random.below(5_000))
        let exchangeTS = BenchClock.rfc3339(unixMicros: exchangeMicros)
        var trade: TradeRow?
        let payload: String
        switch family {
        case "trade":
            tradeCounter += 1
            let price = self.price(), size = String(1 + random.below(5_000))
            let side = random.below(2) == 0 ? "buy" : "sell"
            if small {
                payload = #"{"venue":"XNAS","symbol":"\#(symbol)","price":"\#(price)","size":"\#(size)","side":"\#(side)"}"#
                trade = TradeRow(eventID: id.bytes, tsMicros: tsMicros, tsEventMicros: nil, subjectID: subject.bytes,
                                 venue: "XNAS", symbol: symbol, price: price, size: size, side: side, tradeID: nil)
            } else {
                let tid = tradeID ?? "T\(random.below(100_000_000))"
                payload = #"{"venue":"XNAS","symbol":"\#(symbol)","price":"\#(price)","size":"\#(size)","side":"\#(side)","trade_id":"\#(tid)","exchange_ts":"\#(exchangeTS)"}"#
                trade = TradeRow(eventID: id.bytes, tsMicros: tsMicros, tsEventMicros: exchangeMicros, subjectID: subject.bytes,
                                 venue: "XNAS", symbol: symbol, price: price, size: size, side: side, tradeID: tid)
            }
        case "quote":
            let bid = self.price()
            payload = #"{"venue":"XNAS","symbol":"\#(symbol)","bid_price":"\#(bid)","bid_size":"\#(1 + random.below(5_000))","ask_price":"\#(self.price())","ask_size":"\#(1 + random.below(5_000))","exchange_ts":"\#(exchangeTS)"}"#
        default:
            var bids: [String] = [], asks: [String] = []
            for _ in 0..<10 {
                bids.append(#"["\#(price())","\#(1 + random.below(5_000))"]"#)
                asks.append(#"["\#(price())","\#(1 + random.below(5_000))"]"#)
            }
            payload = #"{"venue":"XNAS","symbol":"\#(symbol)","type":"snapshot","sequence":\#(random.below(1_000_000_000)),"bids":[\#(bids.joined(separator: ","))],"asks":[\#(asks.joined(separator: ","))],"exchange_ts":"\#(exchangeTS)"}"#
        }
        let tags = small ? "" : #","tags":[{"key":"core.source","value":"bench"}]"#
        let envelope = #"{"event_id":"\#(id.text)","ts":"\#(BenchClock.rfc3339(unixMicros: tsMicros))","subject_id":"\#(subject.text)","payload":\#(payload)\#(tags)}"#
        return BenchEvent(family: family, envelope: envelope, trade: trade)
    }

    /// A price around 180–200 with two decimals.
    private mutating func price() -> String {
        let cents = 18_000 + random.below(2_000)
        let c = cents % 100
        return "\(cents / 100).\(c < 10 ? "0" : "")\(c)"
    }
}

/// A subject id as text and as raw bytes (for binary COPY).
struct EventUUIDText: Sendable {
    var text: String
    var bytes: [UInt8]
}

/// Event ids in the bench's streams (`--event-ids`).
enum EventIDStyle: String, Sendable {
    case v7
    case random
}
