// kernel-bench: numbers for `make bench`. It prints measurements and asserts nothing; targets are
// judged by reading them (docs/verification.md), never by timed test assertions.
//
// Today it measures the plugin boundary: events/s through each example plugin's normalize via the
// real host (loader, builder callbacks, output checks), and the JSON parser on the same payloads.
// The end-to-end ingest benchmark joins it with the pipeline.
import KernelJSON
import KernelPlugins
import Logging

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Deterministic payloads per family (fixed seed), shaped like real market data.
struct PayloadGenerator {
    var state: UInt64 = 0x5EED_2026
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func price() -> String { let c = 18_000 + Int(next() % 2_000); return "\(c / 100).\(String(format2(c % 100)))" }
    mutating func size() -> String { String(1 + next() % 5_000) }
    func format2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "BRK.B"]
    mutating func symbol() -> String { symbols[Int(next() % UInt64(symbols.count))] }

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

var pluginsDir = "plugins"
var eventsPerFamily = 200_000
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--plugins": pluginsDir = args.popFirst() ?? pluginsDir
    case "--events": eventsPerFamily = Int(args.popFirst() ?? "") ?? eventsPerFamily
    default: print("usage: kernel-bench [--plugins DIR] [--events N]"); exit(2)
    }
}

let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
let registry = PluginRegistry.load(directory: pluginsDir, logger: logger)
for refused in registry.refused { print("refused: \(refused)") }
print("plugin normalize throughput (one thread, \(eventsPerFamily) events per family, fixed seed)")
print("family  plugin            events/s   ns/event  rows/event  JSON-parse ns/event  payload bytes")
var gen = PayloadGenerator()
for served in registry.servedFamilies {
    let family = served.family
    let payloads = (0..<1000).map { _ in Array(gen.payload(family: family.name).utf8) }
    guard let route = registry.route(family: family.name, version: family.versions.lowerBound) else { continue }
    let inputs = payloads.map {
        EventInput(family: family.name, schemaVersion: family.versions.lowerBound,
                   eventID: "0190f5c2-7b7e-7000-8000-000000000001", subjectID: "0190f5c2-7b7e-7000-8000-0000000000aa",
                   tsUnixNanos: 1_764_081_000_000_000_000, payload: $0)
    }
    // Warm up, then measure whole passes over the payload set.
    var rows = 0, failures = 0
    for input in inputs.prefix(200) { _ = route.instance.normalize(input) }
    let passes = max(1, eventsPerFamily / inputs.count)
    let t0 = now()
    for _ in 0..<passes {
        for input in inputs {
            switch route.instance.normalize(input) {
            case .success(let out): rows += out.rows.count
            case .failure: failures += 1
            }
        }
    }
    let elapsed = now() - t0
    let n = Double(passes * inputs.count)
    var parsed = 0
    let p0 = now()
    for _ in 0..<passes {
        for p in payloads { if (try? JSONParser.parse(p)) != nil { parsed += 1 } }
    }
    let parseElapsed = now() - p0
    let avgBytes = payloads.reduce(0) { $0 + $1.count } / payloads.count
    let line = [
        family.name.padding(8), "\(served.plugin.name) \(served.plugin.version)".padding(16),
        String(Int(n / elapsed)).leftPad(10), String(Int(elapsed / n * 1e9)).leftPad(10),
        String(format1(Double(rows) / n)).leftPad(11), String(Int(parseElapsed / n * 1e9)).leftPad(20),
        String(avgBytes).leftPad(14),
    ].joined(separator: " ")
    print(line + (failures > 0 ? "  (\(failures) refused!)" : ""))
}

func format1(_ v: Double) -> String { let t = Int(v * 10 + 0.5); return "\(t / 10).\(t % 10)" }

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
