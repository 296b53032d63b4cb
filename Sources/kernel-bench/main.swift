// kernel-bench: numbers for `make bench`. It prints measurements and asserts nothing; targets are
// judged by reading them (docs/verification.md), never by timed test assertions.
//
//   kernel-bench plugins [--plugins DIR] [--events N]      plugin normalize throughput, in process
//   kernel-bench envelope [--events N]                     the envelope check per event, in process
//   kernel-bench ingest [flags]                            the kernel process end to end (IngestBench)
//   kernel-bench spill [--spill-mib N]                     spill write and replay rates, RSS during replay
//   kernel-bench all [flags]                               all of them (the default)
import Foundation

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: kernel-bench [plugins|envelope|ingest|spill|all] [flags]
      --plugins DIR            plugin directory (default plugins)
      --events N               plugin and envelope bench: events per family / kind (default 200000)
      --kernel PATH            kernel binary (default: `kernel` next to kernel-bench)
      --repo DIR               repository root, for migrations/ (default .)
      --trade-events N         trade-only drain, and each run of the kernels scenario (default 200000)
      --mixed-events N         mixed 60/30/10 trade/quote/book drain (default 200000)
      --backlog N              small trades preloaded for the memory test (default 1000000)
      --rate R                 latency test offered rate, events/s (default 10000)
      --seconds S              latency test measured duration (default 20)
      --warmup S               latency test warm-up, not measured (default 2)
      --write-connections N    postgres.write_connections for the kernel and the raw COPY (default 2)
      --spill-mib N            spill bench: MiB of spill written, then replayed (default 1024)
      --kernels N              kernels scenario: trade drain with 1, 2, …, N kernels sharing the group (default 2)
      --only LIST              comma list of drain,raw,mixed,generic,kernels,latency,curve,backlog,isolation,compare
                               (default all but compare)
      --curve-lingers LIST     curve scenario: postgres.batch_linger_ms values, each point run once per value,
                               alternated (default: the kernel's default only)
      --curve-rate R           curve scenario: the drain rate the points are fractions of (default: this run's trade drain)
      --isolation-rounds N     isolation scenario: in_process/process trade drain pairs, in the order A B B A … (default 2)
      --compare-kernel PATH    compare scenario (added to the scenarios run): this kernel binary (B) against --kernel (A),
                               the trade drain and the latency run in blocks of A B B A, with the means and B/A
      --compare-blocks N       compare scenario: blocks of A B B A (default 1)
      --event-ids v7|random    event ids: time-ordered UUIDv7 as the example producers send (default) or random v4
      --set SECTION.KEY=VALUE  override one key of the kernel's config, e.g. --set redis.read_count=500 (repeatable)
    Postgres and Redis come from KERNEL_PG_DSN and KERNEL_REDIS_ADDR (make bench sources .run/env).
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
var command = "all"
if let first = args.first, !first.hasPrefix("-") { command = first; args.removeFirst() }
guard ["plugins", "envelope", "ingest", "spill", "all"].contains(command) else { fail(usage) }

let environment = ProcessInfo.processInfo.environment
let selfDir = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    .map { ($0 as NSString).deletingLastPathComponent } ?? "."
var pluginsDir = "plugins"
var pluginEvents = 200_000
var settings = BenchEnvironment.Settings(
    repoRoot: FileManager.default.currentDirectoryPath, pluginsDir: "plugins",
    adminDSN: environment["KERNEL_PG_DSN"] ?? "postgres://kernel@127.0.0.1:15432/kernel?sslmode=disable",
    redisAddr: environment["KERNEL_REDIS_ADDR"] ?? "127.0.0.1:16379",
    kernelBinary: selfDir + "/kernel", writeConnections: 2)
var ingest = IngestBench.Options(settings: settings)
var spillMiB = 1024

func intValue(_ flag: String, _ text: String?) -> Int {
    guard let text, let v = Int(text.replacingOccurrences(of: "_", with: "")), v > 0 else { fail("\(flag) needs a positive integer\n\(usage)") }
    return v
}

func stringValue(_ flag: String, _ text: String?) -> String {
    guard let text, !text.isEmpty else { fail("\(flag) needs a value\n\(usage)") }
    return text
}

func doubleValue(_ flag: String, _ text: String?) -> Double {
    guard let text, let v = Double(text), v >= 0 else { fail("\(flag) needs a number ≥ 0\n\(usage)") }
    return v
}

var it = args.makeIterator()
while let arg = it.next() {
    switch arg {
    case "--plugins": pluginsDir = stringValue(arg, it.next())
    case "--events": pluginEvents = intValue(arg, it.next())
    case "--kernel": settings.kernelBinary = stringValue(arg, it.next())
    case "--repo": settings.repoRoot = stringValue(arg, it.next())
    case "--trade-events": ingest.tradeEvents = intValue(arg, it.next())
    case "--mixed-events": ingest.mixedEvents = intValue(arg, it.next())
    case "--backlog": ingest.backlogEvents = intValue(arg, it.next())
    case "--rate": ingest.rate = intValue(arg, it.next())
    case "--seconds": ingest.latencySeconds = doubleValue(arg, it.next())
    case "--warmup": ingest.warmupSeconds = doubleValue(arg, it.next())
    case "--write-connections": settings.writeConnections = intValue(arg, it.next())
    case "--kernels": ingest.kernels = intValue(arg, it.next())
    case "--isolation-rounds": ingest.isolationRounds = intValue(arg, it.next())
    case "--compare-kernel": ingest.compareKernel = stringValue(arg, it.next())
    case "--compare-blocks": ingest.compareBlocks = intValue(arg, it.next())
    case "--curve-lingers":
        ingest.curveLingers = (it.next() ?? "").split(separator: ",").map { Int($0) ?? { fail("--curve-lingers takes a comma list of ms") }() }
    case "--curve-rate": ingest.curveRate = intValue(arg, it.next())
    case "--spill-mib": spillMiB = intValue(arg, it.next())
    case "--only":
        let list = Set((it.next() ?? "").split(separator: ",").map(String.init))
        let known: Set<String> = ["drain", "raw", "mixed", "generic", "kernels", "latency", "curve", "backlog", "isolation", "compare"]
        guard !list.isEmpty, list.isSubset(of: known) else { fail("--only takes a comma list of \(known.sorted().joined(separator: ","))") }
        ingest.scenarios = list
    case "--event-ids":
        guard let style = EventIDStyle(rawValue: stringValue(arg, it.next())) else { fail("--event-ids takes v7 or random") }
        settings.eventIDs = style
    case "--set":
        let text = stringValue(arg, it.next())
        guard let eq = text.firstIndex(of: "="), let dot = text[..<eq].firstIndex(of: "."),
              !text[..<dot].isEmpty, !text[text.index(after: dot)..<eq].isEmpty else {
            fail("--set takes SECTION.KEY=VALUE, e.g. redis.read_count=500")
        }
        settings.overrides.append((String(text[..<dot]), String(text[text.index(after: dot)..<eq]),
                                   String(text[text.index(after: eq)...])))
    case "-h", "--help": print(usage); exit(0)
    default: fail("unknown argument \(arg)\n\(usage)")
    }
}
// The kernel resolves plugin paths itself: hand it an absolute directory.
settings.pluginsDir = pluginsDir.hasPrefix("/") ? pluginsDir : settings.repoRoot + "/" + pluginsDir
ingest.settings = settings
if let other = ingest.compareKernel {
    guard FileManager.default.isExecutableFile(atPath: other) else { fail("--compare-kernel: no executable at \(other)") }
    ingest.scenarios.insert("compare")
} else if ingest.scenarios.contains("compare") {
    fail("the compare scenario needs --compare-kernel PATH (the kernel to compare with --kernel)")
}

print("kernel-bench \(command): \(MachineInfo.summary(repoRoot: settings.repoRoot))")
print("")
if command == "plugins" || command == "all" {
    PluginBench(pluginsDir: pluginsDir, eventsPerFamily: pluginEvents).run()
    print("")
}
if command == "envelope" || command == "all" {
    EnvelopeBench(parsesPerKind: pluginEvents).run()
    print("")
}
if command == "ingest" || command == "all" {
    guard FileManager.default.isExecutableFile(atPath: settings.kernelBinary) else {
        fail("kernel binary not found at \(settings.kernelBinary) (build it: swift build -c release --product kernel, or pass --kernel)")
    }
    do {
        try IngestBench(options: ingest).run()
    } catch {
        fail("kernel-bench ingest: \(error)")
    }
}
if command == "spill" || command == "all" {
    print("")
    do {
        try SpillBench(settings: settings, targetBytes: spillMiB << 20).run()
    } catch {
        fail("kernel-bench spill: \(error)")
    }
}
