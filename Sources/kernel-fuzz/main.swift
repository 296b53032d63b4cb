// `kernel-fuzz`: bounded-time, structure-aware mutation fuzzing of every parser of untrusted bytes.
// See docs/fuzzing.md.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let usage = """
usage: kernel-fuzz <target>|all [--seconds N] [--seed S] [--corpus DIR] [--stats]
       kernel-fuzz <target> --reproduce FILE... [--repeat N]
       kernel-fuzz <target> --minimize FILE
targets: \(TargetCatalog.names.joined(separator: ", ")); `all` splits --seconds between them
failures are written to \(FailureLog.directory)/<target>-<hash>; exit status 1 if any was found
"""

struct Options {
    var target = ""
    var seconds = 10.0
    var seed: UInt64 = 1
    var corpus: String?
    var reproduce: [String] = []
    var minimize: String?
    /// With `--reproduce`: run each input this many times and report differing verdicts.
    var repeatCount = 1
    var stats = false

    static func parse(_ args: [String]) -> Options? {
        var options = Options()
        var i = 0
        func value() -> String? {
            i += 1
            return i < args.count ? args[i] : nil
        }
        while i < args.count {
            let arg = args[i]
            switch arg {
            case "--seconds":
                guard let v = value(), let s = Double(v), s >= 0 else { return nil }
                options.seconds = s
            case "--seed":
                guard let v = value(), let s = UInt64(v) else { return nil }
                options.seed = s
            case "--corpus":
                guard let v = value() else { return nil }
                options.corpus = v
            case "--reproduce":
                while i + 1 < args.count, !args[i + 1].hasPrefix("--") { options.reproduce.append(value()!) }
                if options.reproduce.isEmpty { return nil }
            case "--stats":
                options.stats = true
            case "--repeat":
                guard let v = value(), let n = Int(v), n >= 1 else { return nil }
                options.repeatCount = n
            case "--minimize":
                guard let v = value() else { return nil }
                options.minimize = v
            case "-h", "--help":
                return nil
            default:
                guard !arg.hasPrefix("-"), options.target.isEmpty else { return nil }
                options.target = arg
            }
            i += 1
        }
        return options.target.isEmpty ? nil : options
    }
}

func makeTarget(_ name: String, corpus: String?) -> FuzzTarget {
    do {
        return try TargetCatalog.make(name, corpus: corpus)
    } catch {
        printError("kernel-fuzz: \(error)")
        exit(2)
    }
}

func reproduce(_ options: Options) -> Int32 {
    let target = makeTarget(options.target, corpus: options.corpus)
    var failed = false
    for path in options.reproduce {
        guard let input = Files.read(path) else {
            printError("kernel-fuzz: cannot read \(path)")
            return 2
        }
        // In-process: a trap here crashes with the Swift runtime's backtrace (file:line in debug builds).
        var verdicts: [String: Int] = [:]
        for _ in 0..<options.repeatCount {
            switch target.run(input) {
            case .pass(let outcome): verdicts["pass (\(outcome))", default: 0] += 1
            case .fail(let message):
                verdicts["FAIL: \(message)", default: 0] += 1
                failed = true
            }
        }
        for (verdict, count) in verdicts.sorted(by: { $0.key < $1.key }) {
            printOut("\(path): \(verdict)" + (options.repeatCount > 1 ? " ×\(count)" : ""))
        }
        if verdicts.count > 1 { printOut("\(path): NONDETERMINISTIC: \(verdicts.count) different verdicts") }
    }
    return failed ? 1 : 0
}

func minimize(_ options: Options, path: String) -> Int32 {
    let target = makeTarget(options.target, corpus: options.corpus)
    guard let input = Files.read(path) else {
        printError("kernel-fuzz: cannot read \(path)")
        return 2
    }
    guard let small = Minimizer(target: target).minimize(input) else {
        printOut("\(path): does not fail; nothing to minimize")
        return 0
    }
    let out = path + ".min"
    Files.write(out, small)
    printOut("\(path): \(input.count) → \(small.count) bytes, written to \(out)")
    return 1
}

func fuzz(_ options: Options) -> Int32 {
    let names = options.target == "all" ? TargetCatalog.names : [options.target]
    let share = options.seconds / Double(names.count)
    // Set up every target before fuzzing any, so a bad corpus fails fast.
    let targets = names.map { makeTarget($0, corpus: names.count == 1 ? options.corpus : nil) }
    var total: UInt64 = 0
    for target in targets {
        var supervisor = Supervisor(target: target, seconds: share, seed: options.seed)
        supervisor.stats = options.stats
        let summary = supervisor.run()
        total += summary.failures
        let rate = summary.elapsed > 0 ? Double(summary.execs) / summary.elapsed : 0
        printOut("\(target.name): \(summary.execs) execs in \(format1(summary.elapsed)) s, \(summary.failures) failures"
                 + " (\(Int(rate)) execs/s, slowest exec \(format1(Double(summary.slowestNanos) / 1e6)) ms)")
    }
    return total == 0 ? 0 : 1
}

func format1(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

guard let options = Options.parse(Array(CommandLine.arguments.dropFirst())) else {
    printError(usage)
    exit(2)
}
if !options.reproduce.isEmpty {
    exit(reproduce(options))
} else if let path = options.minimize {
    exit(minimize(options, path: path))
} else {
    exit(fuzz(options))
}
