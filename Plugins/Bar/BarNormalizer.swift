import KernelPluginSDK

/// Normalizes OHLCV `bar` events: one row per bar, prices and volume as exact decimals.
///
/// Payload: `{venue, symbol, interval, start, open, high, low, close, volume, trades?, vwap?,
/// exchange_ts?}`. `interval` matches `^[1-9][0-9]*[smhd]$`; `start` is RFC 3339. The bar must be
/// consistent: low ≤ open, close ≤ high (compared exactly), volume ≥ 0. Stateless, hence thread-safe.
final class BarNormalizer: KernelNormalizer {
    /// Columns in declaration order; the raw value is the column index.
    enum Col: Int, ColumnAddress {
        case venue, symbol, interval, barStart, open, high, low, close, volume, trades, vwap
    }

    static let plugin = PluginInfo(
        name: "bar",
        version: "1.0.0",
        threadSafe: true,
        families: [
            FamilySpec(
                name: "bar",
                versions: 1...1,
                payloadSchema: """
                {"type":"object","required":["venue","symbol","interval","start","open","high","low","close","volume"],\
                "properties":{"venue":{"type":"string"},"symbol":{"type":"string"},"interval":{"type":"string"},\
                "start":{"type":"string"},"open":{"type":["number","string"]},"high":{"type":["number","string"]},\
                "low":{"type":["number","string"]},"close":{"type":["number","string"]},\
                "volume":{"type":["number","string"]},"trades":{"type":"integer"},\
                "vwap":{"type":["number","string"]},"exchange_ts":{"type":"string"}}}
                """,
                columns: [
                    Column("venue", .text, description: "Trading venue, e.g. an exchange MIC"),
                    Column("symbol", .text, description: "Instrument symbol at the venue"),
                    Column("interval", .text, description: "Bar length: a count and a unit s, m, h or d, e.g. 1m"),
                    Column("bar_start", .timestamptz, description: "Bar open time"),
                    Column("open", .numeric, description: "First price in the bar, exact decimal"),
                    Column("high", .numeric, description: "Highest price in the bar, exact decimal"),
                    Column("low", .numeric, description: "Lowest price in the bar, exact decimal"),
                    Column("close", .numeric, description: "Last price in the bar, exact decimal"),
                    Column("volume", .numeric, description: "Traded quantity in the bar, exact decimal, >= 0"),
                    Column("trades", .int8, nullable: true, description: "Number of trades in the bar, if given"),
                    Column("vwap", .numeric, nullable: true, description: "Volume-weighted average price, if given"),
                ],
                maxRowsPerEvent: 1
            ),
        ]
    )

    init(config: JSONValue, host: HostServices) throws(PluginError) {
        if let keys = config.objectValue?.keys, !keys.isEmpty {
            host.log(.warn, "bar plugin takes no configuration; ignoring \(keys.joined(separator: ", "))")
        }
    }

    func normalize(_ event: Event, into out: inout Output) throws(NormalizeError) {
        let p = try event.payloadObject()
        let venue = try p.requiredString("venue")
        let symbol = try p.requiredString("symbol")
        let interval = try p.requiredString("interval")
        guard Self.isInterval(interval) else {
            throw .invalidPayload("field 'interval' must look like 1s, 5m, 1h or 1d (^[1-9][0-9]*[smhd]$), got \"\(interval.prefix(64))\"")
        }
        let start = try p.requiredTimestamp("start")
        let open = try p.requiredDecimal("open", .positive)
        let high = try p.requiredDecimal("high", .positive)
        let low = try p.requiredDecimal("low", .positive)
        let close = try p.requiredDecimal("close", .positive)
        let volume = try p.requiredDecimal("volume", .nonNegative)
        let trades = try p.optionalInt64("trades", minimum: 0)
        let vwap = try p.optionalDecimal("vwap", .positive)
        let exchangeTime = try p.optionalTimestamp("exchange_ts")

        for (name, value) in [("open", open), ("close", close)] {
            guard low <= value else { throw .invalidPayload("bar is inconsistent: low \(low) > \(name) \(value)") }
            guard value <= high else { throw .invalidPayload("bar is inconsistent: \(name) \(value) > high \(high)") }
        }

        out.addTag(key: "core.venue", value: venue)
        out.addTag(key: "core.symbol", value: symbol)
        if let exchangeTime { out.setEventTime(unixNanos: exchangeTime) }
        out.beginRow()
        out.set(Col.venue, text: venue)
        out.set(Col.symbol, text: symbol)
        out.set(Col.interval, text: interval)
        out.set(Col.barStart, timestampNanos: start)
        out.set(Col.open, numeric: open)
        out.set(Col.high, numeric: high)
        out.set(Col.low, numeric: low)
        out.set(Col.close, numeric: close)
        out.set(Col.volume, numeric: volume)
        out.set(Col.trades, int64: trades)
        out.set(Col.vwap, numeric: vwap)
    }

    /// `^[1-9][0-9]*[smhd]$`, without a regex engine.
    static func isInterval(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 2, let first = u.first, let unit = u.last,
              first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9"),
              [UInt8(ascii: "s"), UInt8(ascii: "m"), UInt8(ascii: "h"), UInt8(ascii: "d")].contains(unit)
        else { return false }
        return u.dropFirst().dropLast().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
