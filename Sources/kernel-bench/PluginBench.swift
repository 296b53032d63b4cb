#if canImport(Glibc)
import Glibc
#endif
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
        print("plugin normalize throughput (one thread, \(eventsPerFamily) events per family, fixed seed; thread CPU time)")
        print("family  plugin            events/s   ns/event  batch-100 ns/event  rows/event  JSON-parse ns/event  payload bytes")
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
            let t0 = threadCPUSeconds()
            for _ in 0..<passes {
                for input in inputs {
                    switch route.instance.normalize(input) {
                    case .success(let out): rows += out.rows.count
                    case .failure: failures += 1
                    }
                }
            }
            let elapsed = threadCPUSeconds() - t0
            let n = Double(passes * inputs.count)
            // The kernel's path: one normalizeBatch per route group of a reader chunk (~100 events).
            let chunks = stride(from: 0, to: inputs.count, by: 100).map { Array(inputs[$0..<min($0 + 100, inputs.count)]) }
            let b0 = threadCPUSeconds()
            for _ in 0..<passes {
                for chunk in chunks { rows += route.instance.normalizeBatch(chunk, budgetNanos: .max).results.count * 0 }
            }
            let batchElapsed = threadCPUSeconds() - b0
            var parsed = 0
            let p0 = threadCPUSeconds()
            for _ in 0..<passes {
                for p in payloads { if (try? JSONParser.parse(p)) != nil { parsed += 1 } }
            }
            let parseElapsed = threadCPUSeconds() - p0
            let avgBytes = payloads.reduce(0) { $0 + $1.count } / payloads.count
            let line = [
                family.name.padding(8), "\(served.plugin.name) \(served.plugin.version)".padding(16),
                String(Int(n / elapsed)).leftPad(10), String(Int(elapsed / n * 1e9)).leftPad(10),
                String(Int(batchElapsed / n * 1e9)).leftPad(19),
                Fmt.fixed(Double(rows) / n, 1).leftPad(11), String(Int(parseElapsed / n * 1e9)).leftPad(20),
                String(avgBytes).leftPad(14),
            ].joined(separator: " ")
            print(line + (failures > 0 ? "  (\(failures) refused!)" : ""))
        }
    }
}

/// CPU time of the calling thread: unlike wall time, it does not grow when other processes take
/// the core, so the per-event costs stay comparable on a shared machine.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
