#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one target for a bounded time in forked children (SIGILL/SIGTRAP from a Swift trap, or a
/// SIGSEGV, kills only the child), recovers the killing input from `SharedRecord`, and starts a
/// fresh child for the remaining time. A child that stops making progress inside one execution for
/// `hangSeconds` is killed and its input saved as a hang.
struct Supervisor {
    let target: FuzzTarget
    let seconds: Double
    let seed: UInt64
    /// Print each child's outcome histogram (which checks the inputs reached) when it finishes.
    var stats = false
    let hangSeconds: Double = 10
    /// Crashes after which the target is abandoned (a crashing seed would otherwise crash every child).
    let maxCrashes = 10
    static let maxInput = 256 * 1024

    struct Summary {
        var execs: UInt64 = 0
        var failures: UInt64 = 0
        var elapsed: Double = 0
        var slowestNanos: UInt64 = 0
    }

    func run() -> Summary {
        let shared = SharedRecord(capacity: Self.maxInput)
        var log = FailureLog(target: target.name)
        var summary = Summary()
        let start = monotonicNanos()
        let deadline = start + UInt64(seconds * 1e9)
        var generation: UInt64 = 0
        var crashes = 0
        var crashed = Set<UInt64>()
        children: while monotonicNanos() < deadline || generation == 0 {
            shared.inExec = false
            let pid = fork()
            if pid < 0 {
                printError("\(target.name): fork failed (errno \(errno)); running in-process, crashes will not be saved")
                FuzzLoop(target: target, shared: shared, seed: seed, deadline: deadline, runSeeds: true, stats: stats).run()
                break children
            }
            if pid == 0 {
                // The child: seeds first in the first generation only, then mutations until the deadline.
                let childSeed = generation == 0 ? seed : seed ^ (generation &* 0x9E37_79B9_7F4A_7C15)
                FuzzLoop(target: target, shared: shared, seed: childSeed, deadline: deadline,
                         runSeeds: generation == 0, stats: stats).run()
                _exit(0)
            }
            let status = watch(pid, shared: shared, deadline: deadline)
            generation += 1
            switch status {
            case .finished:
                break children
            case .crashed(let why), .hung(let why):
                let input = shared.lastInput
                let kind: String
                if case .hung = status { kind = "hang" } else { kind = "crash" }
                shared.failures += 1
                if crashed.insert(FNV.hash(input)).inserted {
                    log.report("\(why) (\(input.count)-byte input)", input: input, kind: kind)
                }
                crashes += 1
                if crashes >= maxCrashes {
                    printError("\(target.name): \(crashes) crashes/hangs, giving up on this target")
                    break children
                }
            }
        }
        summary.execs = shared.execs
        summary.failures = shared.failures
        summary.slowestNanos = shared.slowestNanos
        summary.elapsed = Double(monotonicNanos() - start) / 1e9
        return summary
    }

    enum ChildStatus {
        case finished
        case crashed(String)
        case hung(String)
    }

    /// Waits for the child, killing it if one execution makes no progress for `hangSeconds`.
    private func watch(_ pid: pid_t, shared: SharedRecord, deadline: UInt64) -> ChildStatus {
        var lastExecs = shared.execs &+ shared.started
        var lastProgress = monotonicNanos()
        while true {
            var status: Int32 = 0
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                let signal = status & 0x7F
                if signal != 0 { return .crashed("killed by signal \(signal) (\(Self.signalName(signal)))") }
                let code = (status >> 8) & 0xFF
                return code == 0 ? .finished : .crashed("exited with status \(code)")
            }
            if done < 0 && errno != EINTR { return .crashed("waitpid failed (errno \(errno))") }
            let now = monotonicNanos()
            let execs = shared.execs &+ shared.started
            if execs != lastExecs {
                lastExecs = execs
                lastProgress = now
            } else if shared.inExec && Double(now - lastProgress) / 1e9 > hangSeconds {
                kill(pid, SIGKILL)
                var ignored: Int32 = 0
                waitpid(pid, &ignored, 0)
                return .hung("one execution ran for more than \(Int(hangSeconds)) s")
            } else if !shared.inExec && now > deadline + UInt64(hangSeconds * 1e9) {
                // Between executions and past the deadline: a stuck child, not a stuck parser.
                kill(pid, SIGKILL)
                var ignored: Int32 = 0
                waitpid(pid, &ignored, 0)
                return .finished
            }
            usleep(20_000)
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGILL: return "SIGILL: a Swift trap (precondition, overflow, bounds, force-unwrap)"
        case SIGTRAP: return "SIGTRAP: a Swift trap"
        case SIGSEGV: return "SIGSEGV: invalid memory access or stack overflow"
        case SIGBUS: return "SIGBUS"
        case SIGABRT: return "SIGABRT: abort (C library or Swift runtime)"
        case SIGFPE: return "SIGFPE: arithmetic fault"
        case SIGKILL: return "SIGKILL: killed (out of memory?)"
        default: return "signal \(signal)"
        }
    }
}

/// The fuzzing loop proper (runs in the child).
struct FuzzLoop {
    let target: FuzzTarget
    let shared: SharedRecord
    let seed: UInt64
    let deadline: UInt64
    let runSeeds: Bool
    let stats: Bool
    /// Corpus growth limit (outcome-diverse inputs are kept up to this many).
    static let maxCorpus = 4096

    func run() {
        var rng = FuzzRandom(seed: seed)
        var log = FailureLog(target: target.name)
        var corpus = target.seeds.filter { $0.count <= Supervisor.maxInput }
        if corpus.isEmpty { corpus = [[]] }
        var seen = Set<String>()
        var histogram: [String: Int] = [:]

        func execute(_ input: [UInt8]) -> Verdict {
            shared.record(input)
            shared.started += 1
            shared.inExec = true
            let t0 = monotonicNanos()
            let verdict = target.run(input)
            let dt = monotonicNanos() - t0
            shared.inExec = false
            shared.execs += 1
            if dt > shared.slowestNanos { shared.slowestNanos = dt }
            return verdict
        }

        func handle(_ verdict: Verdict, _ input: [UInt8], isSeed: Bool) {
            switch verdict {
            case .pass(let outcome):
                if stats { histogram[outcome, default: 0] += 1 }
                if !isSeed, corpus.count < Self.maxCorpus, seen.insert(outcome).inserted { corpus.append(input) }
                if isSeed { seen.insert(outcome) }
            case .fail(let message):
                if stats { histogram["FAIL " + Minimizer.property(message), default: 0] += 1 }
                shared.failures += 1
                log.report(isSeed ? "seed: \(message)" : message, input: input)
            }
        }

        if runSeeds {
            for input in corpus { handle(execute(input), input, isSeed: true) }
        }
        var i: UInt64 = 0
        while true {
            if i & 63 == 0 && monotonicNanos() >= deadline { break }
            i += 1
            let base = corpus[rng.below(corpus.count)]
            let other = corpus[rng.below(corpus.count)]
            var input = target.mutate(base, other: other, rng: &rng)
            if input.count > Supervisor.maxInput { input.removeSubrange(Supervisor.maxInput...) }
            handle(execute(input), input, isSeed: false)
        }
        if stats {
            let total = max(1, histogram.values.reduce(0, +))
            for (outcome, count) in histogram.sorted(by: { $0.value > $1.value }).prefix(40) {
                printError("  \(target.name) \(String(count).padding(9)) \(count * 1000 / total / 10).\(count * 1000 / total % 10)%  \(outcome)")
            }
            printError("  \(target.name): corpus \(corpus.count) inputs, \(histogram.count) outcomes")
        }
    }
}

extension String {
    /// Left-padded to `width` characters.
    func padding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
