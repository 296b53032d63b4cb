import KernelJSON
import KernelPlugins
import Logging

/// `kernel-bench plugins`: events/s through each example plugin's normalize via the real host
/// (loader, builder callbacks, output checks), and the JSON parser on the same payloads.
struct PluginBench {
    var pluginsDir: String
    var eventsPerFamily: Int

    func run() {
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
            let t0 = BenchClock.now()
            for _ in 0..<passes {
                for input in inputs {
                    switch route.instance.normalize(input) {
                    case .success(let out): rows += out.rows.count
                    case .failure: failures += 1
                    }
                }
            }
            let elapsed = BenchClock.now() - t0
            let n = Double(passes * inputs.count)
            var parsed = 0
            let p0 = BenchClock.now()
            for _ in 0..<passes {
                for p in payloads { if (try? JSONParser.parse(p)) != nil { parsed += 1 } }
            }
            let parseElapsed = BenchClock.now() - p0
            let avgBytes = payloads.reduce(0) { $0 + $1.count } / payloads.count
            let line = [
                family.name.padding(8), "\(served.plugin.name) \(served.plugin.version)".padding(16),
                String(Int(n / elapsed)).leftPad(10), String(Int(elapsed / n * 1e9)).leftPad(10),
                Fmt.fixed(Double(rows) / n, 1).leftPad(11), String(Int(parseElapsed / n * 1e9)).leftPad(20),
                String(avgBytes).leftPad(14),
            ].joined(separator: " ")
            print(line + (failures > 0 ? "  (\(failures) refused!)" : ""))
        }
    }
}
