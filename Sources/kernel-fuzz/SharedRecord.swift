#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared anonymous mapping between the supervisor and its fuzzing child. Before each execution
/// the child copies the input here (a memcpy: far cheaper than the parsers it feeds), so when a
/// trap kills the child the supervisor still holds the exact input that killed it. Counters live
/// here too, so executions done before a crash are still counted.
final class SharedRecord {
    /// Largest input recorded (every target caps its inputs below this).
    let capacity: Int
    private let base: UnsafeMutableRawPointer
    private let size: Int

    private static let header = 64
    private enum Slot: Int {
        case execs = 0, failures = 8, inputLength = 16, inExec = 24, slowestNanos = 32, heartbeat = 40
    }

    init(capacity: Int) {
        self.capacity = capacity
        size = Self.header + capacity
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else {
            fatalError("kernel-fuzz: mmap of \(size) bytes failed (errno \(errno))")
        }
        base = mapped
        memset(base, 0, Self.header)
    }

    deinit { munmap(base, size) }

    private func slot(_ s: Slot) -> UnsafeMutablePointer<UInt64> {
        (base + s.rawValue).assumingMemoryBound(to: UInt64.self)
    }

    var execs: UInt64 {
        get { slot(.execs).pointee }
        set { slot(.execs).pointee = newValue }
    }
    var failures: UInt64 {
        get { slot(.failures).pointee }
        set { slot(.failures).pointee = newValue }
    }
    /// Non-zero while the child is inside `run` (a kill then means "this input hangs").
    var inExec: Bool {
        get { slot(.inExec).pointee != 0 }
        set { slot(.inExec).pointee = newValue ? 1 : 0 }
    }
    /// Executions started (with `execs`, the supervisor's progress signal: a slow mutation
    /// between two executions must not count against the next one).
    var started: UInt64 {
        get { slot(.heartbeat).pointee }
        set { slot(.heartbeat).pointee = newValue }
    }
    var slowestNanos: UInt64 {
        get { slot(.slowestNanos).pointee }
        set { slot(.slowestNanos).pointee = newValue }
    }

    /// Records the input about to run.
    @inline(__always)
    func record(_ input: [UInt8]) {
        let n = min(input.count, capacity)
        _ = input.withUnsafeBytes { memcpy(base + Self.header, $0.baseAddress!, n) }
        slot(.inputLength).pointee = UInt64(n)
    }

    /// The last input recorded.
    var lastInput: [UInt8] {
        let n = Int(slot(.inputLength).pointee)
        return Array(UnsafeRawBufferPointer(start: base + Self.header, count: min(n, capacity)))
    }

    func reset() { memset(base, 0, Self.header) }
}
