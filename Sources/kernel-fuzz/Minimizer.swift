#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shrinks a failing input while it keeps failing the same way (same signal, or the same property:
/// the text of a failure message before its first ":"), each attempt in a forked child so crashes
/// can be tried safely. Greedy: removes ever smaller chunks, then simplifies single bytes.
struct Minimizer {
    let target: FuzzTarget

    enum Outcome: Equatable {
        case pass
        case fail(String)
        case signal(Int32)
    }

    /// Runs `input` once in a child.
    func probe(_ input: [UInt8]) -> Outcome {
        let pid = fork()
        if pid == 0 {
            alarm(20)
            switch target.run(input) {
            case .pass: _exit(0)
            case .fail(let message):
                // The property name travels back through a pipe-free channel: a file would do, but
                // the exit code plus the message prefix hash is enough to compare.
                _exit(Int32(3 + Int(FNV.hash(Array(Self.property(message).utf8)) % 200)))
            }
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let signal = status & 0x7F
        if signal != 0 { return .signal(signal) }
        let code = (status >> 8) & 0xFF
        return code == 0 ? .pass : .fail("\(code)")
    }

    static func property(_ message: String) -> String {
        String(message.prefix { $0 != ":" })
    }

    func minimize(_ original: [UInt8]) -> [UInt8]? {
        let want = probe(original)
        guard want != .pass else { return nil }
        var best = original
        var chunk = max(1, best.count / 2)
        while chunk >= 1 {
            var i = 0
            var progressed = false
            while i < best.count {
                var candidate = best
                candidate.removeSubrange(i..<min(best.count, i + chunk))
                if probe(candidate) == want {
                    best = candidate
                    progressed = true
                } else {
                    i += chunk
                }
            }
            if !progressed { chunk /= 2 }
        }
        // Make the remaining bytes as plain as possible (easier to read in a report).
        for i in best.indices where best[i] != UInt8(ascii: "a") {
            var candidate = best
            candidate[i] = UInt8(ascii: "a")
            if probe(candidate) == want { best = candidate }
        }
        return best
    }
}
