import KernelPluginSDK

/// Normalizes L2 `book` events (snapshots and deltas): one row per price level, bids first in
/// the order given, then asks, each side's levels numbered from 0.
///
/// Payload: `{venue, symbol, type: snapshot|delta, sequence?, bids: [[price, size], …],
/// asks: [[price, size], …], exchange_ts?}`. A delta may carry size 0 ("remove the level"); a
/// snapshot may not. Stateless, hence thread-safe.
final class BookNormalizer: KernelNormalizer {
    /// Columns in declaration order; the raw value is the column index.
    enum Col: Int, ColumnAddress {
        case venue, symbol, kind, side, level, price, size, sequence
    }

    /// Most levels (rows) one event may carry.
    static let maxLevels = 1000

    static let plugin = PluginInfo(
        name: "book",
        version: "1.0.0",
        threadSafe: true,
        families: [
            FamilySpec(
                name: "book",
                versions: 1...1,
                payloadSchema: """
                {"type":"object","required":["venue","symbol","type","bids","asks"],"properties":{\
                "venue":{"type":"string"},"symbol":{"type":"string"},\
                "type":{"type":"string","enum":["snapshot","delta"]},"sequence":{"type":"integer"},\
                "bids":{"type":"array","items":{"type":"array","items":{"type":["number","string"]}}},\
                "asks":{"type":"array","items":{"type":"array","items":{"type":["number","string"]}}},\
                "exchange_ts":{"type":"string"}}}
                """,
                columns: [
                    Column("venue", .text, description: "Trading venue, e.g. an exchange MIC"),
                    Column("symbol", .text, description: "Instrument symbol at the venue"),
                    Column("kind", .text, allowedValues: ["snapshot", "delta"], description: "Full snapshot or incremental delta"),
                    Column("side", .text, allowedValues: ["bid", "ask"], description: "Book side of this level"),
                    Column("level", .int4, description: "Position of the level within its side in the event, from 0"),
                    Column("price", .numeric, description: "Level price, exact decimal, > 0"),
                    Column("size", .numeric, description: "Level quantity, exact decimal; 0 in a delta removes the level"),
                    Column("sequence", .int8, nullable: true, description: "Venue sequence number of the update, if given"),
                ],
                maxRowsPerEvent: UInt32(maxLevels)
            ),
        ]
    )

    init(config: JSONValue, host: HostServices) throws(PluginError) {
        if let keys = config.objectValue?.keys, !keys.isEmpty {
            host.log(.warn, "book plugin takes no configuration; ignoring \(keys.joined(separator: ", "))")
        }
    }

    /// One validated price level.
    struct Level {
        let price: DecimalText
        let size: DecimalText
    }

    func normalize(_ event: Event, into out: inout Output) throws(NormalizeError) {
        let p = try event.payloadObject()
        let venue = try p.requiredString("venue")
        let symbol = try p.requiredString("symbol")
        let kind = try p.requiredEnum("type", allowed: ["snapshot", "delta"])
        let sequence = try p.optionalInt64("sequence")
        let bidValues = try p.requiredArray("bids")
        let askValues = try p.requiredArray("asks")
        let exchangeTime = try p.optionalTimestamp("exchange_ts")

        let total = bidValues.count + askValues.count
        guard total > 0 else { throw .invalidPayload("book has no levels: 'bids' and 'asks' are both empty") }
        guard total <= Self.maxLevels else {
            throw .invalidPayload("book has \(total) levels, at most \(Self.maxLevels) are allowed per event")
        }
        let sizeRule: PayloadObject.DecimalConstraint = kind == "snapshot" ? .positive : .nonNegative
        let bids = try Self.levels(bidValues, field: "bids", sizeRule: sizeRule)
        let asks = try Self.levels(askValues, field: "asks", sizeRule: sizeRule)

        out.addTag(key: "core.venue", value: venue)
        out.addTag(key: "core.symbol", value: symbol)
        if let exchangeTime { out.setEventTime(unixNanos: exchangeTime) }
        for (side, levels) in [("bid", bids), ("ask", asks)] {
            for (index, level) in levels.enumerated() {
                out.beginRow()
                out.set(Col.venue, text: venue)
                out.set(Col.symbol, text: symbol)
                out.set(Col.kind, text: kind)
                out.set(Col.side, text: side)
                out.set(Col.level, int64: Int64(index))
                out.set(Col.price, numeric: level.price)
                out.set(Col.size, numeric: level.size)
                out.set(Col.sequence, int64: sequence)
            }
        }
    }

    /// Validates `[[price, size], …]`; messages name the element, e.g. `bids[2] size`.
    static func levels(_ values: [JSONValue], field: String, sizeRule: PayloadObject.DecimalConstraint) throws(NormalizeError) -> [Level] {
        var levels: [Level] = []
        levels.reserveCapacity(values.count)
        for (i, value) in values.enumerated() {
            guard case .array(let pair) = value, pair.count == 2 else {
                throw .invalidPayload("field '\(field)[\(i)]' must be a [price, size] array")
            }
            let price = try PayloadObject.decimal(pair[0], field: "\(field)[\(i)] price", .positive)
            let size = try PayloadObject.decimal(pair[1], field: "\(field)[\(i)] size", sizeRule)
            levels.append(Level(price: price, size: size))
        }
        return levels
    }
}
