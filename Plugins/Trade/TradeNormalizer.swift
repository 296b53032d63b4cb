import KernelPluginSDK

/// Normalizes `trade` events: one row per trade, price and size as exact decimals.
///
/// Payload: `{venue, symbol, price, size, side?: buy|sell|unknown, trade_id?, exchange_ts?}`;
/// prices and sizes are JSON numbers or decimal strings. Stateless, hence thread-safe.
final class TradeNormalizer: KernelNormalizer {
    /// Columns in declaration order; the raw value is the column index.
    enum Col: Int, ColumnAddress {
        case venue, symbol, price, size, side, tradeID
    }

    static let sides = ["buy", "sell", "unknown"]

    static let plugin = PluginInfo(
        name: "trade",
        version: "1.0.0",
        threadSafe: true,
        families: [
            FamilySpec(
                name: "trade",
                versions: 1...1,
                payloadSchema: """
                {"type":"object","required":["venue","symbol","price","size"],"properties":{\
                "venue":{"type":"string"},"symbol":{"type":"string"},\
                "price":{"type":["number","string"]},"size":{"type":["number","string"]},\
                "side":{"type":"string","enum":["buy","sell","unknown"]},\
                "trade_id":{"type":"string"},"exchange_ts":{"type":"string"}}}
                """,
                columns: [
                    Column("venue", .text, description: "Trading venue, e.g. an exchange MIC"),
                    Column("symbol", .text, description: "Instrument symbol at the venue"),
                    Column("price", .numeric, description: "Trade price, exact decimal, > 0"),
                    Column("size", .numeric, description: "Trade quantity, exact decimal, >= 0"),
                    Column("side", .text, allowedValues: sides, description: "Aggressor side: buy, sell or unknown"),
                    Column("trade_id", .text, nullable: true, description: "Venue trade identifier, if given"),
                ],
                maxRowsPerEvent: 1
            ),
        ]
    )

    init(config: JSONValue, host: HostServices) throws(PluginError) {
        if let keys = config.objectValue?.keys, !keys.isEmpty {
            host.log(.warn, "trade plugin takes no configuration; ignoring \(keys.joined(separator: ", "))")
        }
    }

    func normalize(_ event: Event, into out: inout Output) throws(NormalizeError) {
        let p = try event.payloadObject()
        let venue = try p.requiredString("venue")
        let symbol = try p.requiredString("symbol")
        let price = try p.requiredDecimal("price", .positive)
        let size = try p.requiredDecimal("size", .nonNegative)
        let side = try p.optionalEnum("side", allowed: Self.sides, default: "unknown")
        let tradeID = try p.optionalString("trade_id")
        let exchangeTime = try p.optionalTimestamp("exchange_ts")

        out.addTag(key: "core.venue", value: venue)
        out.addTag(key: "core.symbol", value: symbol)
        if let exchangeTime { out.setEventTime(unixNanos: exchangeTime) }
        out.beginRow()
        out.set(Col.venue, text: venue)
        out.set(Col.symbol, text: symbol)
        out.set(Col.price, numeric: price)
        out.set(Col.size, numeric: size)
        out.set(Col.side, text: side)
        out.set(Col.tradeID, text: tradeID)
    }
}
