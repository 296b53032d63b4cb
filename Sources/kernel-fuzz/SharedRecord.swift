#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared anonymous mapping between the supervisor and its fuzzing child. Before each execution
/// the child copies the input here (a memcpy: far cheaper than the parsers it feeds), so when a
/// trap kills the child the supervisor still holds the exact input that killed it. Counters live
/// here too, so executions done before a crash are still counted.
@dynamicMemberLookup
final class SharedRecord {
    /// The counters at the head of the mapping. The child is forked from the supervisor, so both
    /// lay the struct out alike.
    struct Counters {
        var execs: UInt64
        var failures: UInt64
        var inputLength: UInt64
        /// True while the child is inside `run` (a kill then means "this input hangs").
        var inExec: Bool
        /// Executions started (with `execs`, the supervisor's progress signal: a slow mutation
        /// between two executions must not count against the next one).
        var started: UInt64
        var slowestNanos: UInt64
    }

    /// Largest input recorded (every target caps its inputs below this).
    let capacity: Int
    private let base: UnsafeMutableRawPointer
    private let size: Int

    /// Room for `Counters`; the input follows.
    private static let header = 64

    init(capacity: Int) {
        precondition(MemoryLayout<Counters>.size <= Self.header)
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

    private var counters: UnsafeMutablePointer<Counters> { base.assumingMemoryBound(to: Counters.self) }

    /// A counter, read and written in the shared mapping: `shared.execs += 1`.
    subscript<Value>(dynamicMember field: WritableKeyPath<Counters, Value>) -> Value {
        get { counters.pointee[keyPath: field] }
        set { counters.pointee[keyPath: field] = newValue }
    }

    /// Records the input about to run.
    @inline(__always)
    func record(_ input: [UInt8]) {
        let n = min(input.count, capacity)
        _ = input.withUnsafeBytes { memcpy(base + Self.header, $0.baseAddress!, n) }
        counters.pointee.inputLength = UInt64(n)
    }

    /// The last input recorded.
    var lastInput: [UInt8] {
        let n = Int(counters.pointee.inputLength)
        return Array(UnsafeRawBufferPointer(start: base + Self.header, count: min(n, capacity)))
    }

    func reset() { memset(base, 0, Self.header) }
}
