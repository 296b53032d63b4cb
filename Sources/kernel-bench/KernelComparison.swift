import Foundation

/// `kernel-bench ingest --only compare --compare-kernel B`: the `--kernel` binary (A) against B,
/// the trade drain and then the latency run, each in blocks of A B B A.
///
/// Why that order: the second drain of a back-to-back pair runs while Postgres is still busy
/// after the first one's inserts (autovacuum, a checkpoint), so in plain A B pairs whichever ran
/// second looked ~6 % slower, Postgres included (docs/verification.md, "Two per-event cuts, and
/// the order of an A/B pair"). In A B B A each binary runs first and second equally often.
struct KernelComparison {
    let options: IngestBench.Options
    /// The second kernel binary (B); A is `options.settings.kernelBinary`.
    let other: String
    /// Blocks of A B B A: each binary runs the drain, and the latency run, 2 × `blocks` times.
    let blocks: Int

    private struct Sample {
        var kernel: String
        var cpuPerMillion: Double
        var postgresCPUPerMillion: Double?
        var eventsPerSecond: Double?
        var p99Millis: Double?
    }

    /// The binaries in run order: A B B A per block.
    static func order(blocks: Int) -> [String] {
        Array(repeating: ["A", "B", "B", "A"], count: max(1, blocks)).flatMap { $0 }
    }

    /// A fresh environment whose kernel is binary `name` (A or B).
    private func withKernel(_ name: String, _ body: (BenchEnvironment) throws -> Void) throws {
        var settings = options.settings
        settings.kernelBinary = name == "A" ? options.settings.kernelBinary : other
        try BenchEnvironment.with(settings, body)
    }

    func run() throws {
        print("")
        print("kernel comparison, A B B A × \(max(1, blocks)): A = \(options.settings.kernelBinary), B = \(other)")
        var drains: [Sample] = []
        for (i, name) in Self.order(blocks: blocks).enumerated() {
            try withKernel(name) { env in
                let (r, _) = try DrainRun(environment: env, label: "trade, kernel \(name) #\(i + 1)", mix: .tradeOnly,
                                          count: options.tradeEvents, seed: options.seed).run()
                print("  drain   \(name) #\(String(i + 1).leftPad(2))  \(Fmt.grouped(Int(r.eventsPerSecond)).leftPad(9)) events/s  "
                      + "kernel \(Fmt.fixed(r.cpuPerMillion, 2)) core-s/M  Postgres \(Fmt.fixed(r.postgresCPUPerMillion, 2))  "
                      + "DLQ \(r.dlq), kernel errors \(r.kernelErrors), load \(r.loadAverage)")
                drains.append(Sample(kernel: name, cpuPerMillion: r.cpuPerMillion, postgresCPUPerMillion: r.postgresCPUPerMillion,
                                     eventsPerSecond: r.eventsPerSecond))
            }
        }
        var latencies: [Sample] = []
        for (i, name) in Self.order(blocks: blocks).enumerated() {
            try withKernel(name) { env in
                let r = try LatencyRun(environment: env, rate: options.rate, seconds: options.latencySeconds,
                                       warmupSeconds: options.warmupSeconds, seed: options.seed &+ 2).run()
                let p99 = r.toCommit?.value(0.99).map { Double($0) / 1e6 }
                print("  latency \(name) #\(String(i + 1).leftPad(2))  \(Fmt.grouped(options.rate).leftPad(9)) events/s  "
                      + "kernel \(Fmt.fixed(r.cpuPerMillion, 2)) core-s/M  p99 XADD → committed "
                      + (p99.map { Fmt.fixed($0, 2) + " ms" } ?? "n/a") + ", DLQ \(r.dlq), kernel errors \(r.kernelErrors)")
                latencies.append(Sample(kernel: name, cpuPerMillion: r.cpuPerMillion, p99Millis: p99))
            }
        }
        summarize("trade drain", drains)
        summarize("\(Fmt.grouped(options.rate))/s", latencies)
    }

    private func summarize(_ title: String, _ samples: [Sample]) {
        func mean(_ name: String, _ value: (Sample) -> Double?) -> Double? {
            let values = samples.filter { $0.kernel == name }.compactMap(value)
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
        guard let a = mean("A", { $0.cpuPerMillion }), let b = mean("B", { $0.cpuPerMillion }) else { return }
        var line = "  \(title): mean kernel core-s/M A \(Fmt.fixed(a, 2)), B \(Fmt.fixed(b, 2)), B/A \(Fmt.fixed(b / a, 3))"
        if let ra = mean("A", { $0.eventsPerSecond }), let rb = mean("B", { $0.eventsPerSecond }) {
            line += "; events/s B/A \(Fmt.fixed(rb / ra, 3))"
        }
        if let pa = mean("A", { $0.postgresCPUPerMillion }), let pb = mean("B", { $0.postgresCPUPerMillion }) {
            line += "; Postgres core-s/M A \(Fmt.fixed(pa, 2)), B \(Fmt.fixed(pb, 2))"
        }
        if let pa = mean("A", { $0.p99Millis }), let pb = mean("B", { $0.p99Millis }) {
            line += "; mean p99 A \(Fmt.fixed(pa, 2)) ms, B \(Fmt.fixed(pb, 2)) ms"
        }
        print(line)
    }
}
