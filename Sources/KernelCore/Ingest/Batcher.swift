/// Decides when a batch is cut, as a pure state machine over an injected clock (nanoseconds of a
/// monotonic clock), so its timing is tested without sleeping.
///
/// A batch is cut when it holds `maxEvents`, when its oldest event has waited `maxWaitNanos`, or
/// when the reader has nothing more to give (`inputIdle`) and its oldest event has waited
/// `lingerNanos` (`postgres.batch_linger_ms`; 0: at once). Under load the input never idles and
/// batches grow to full size; at low rates the linger gathers the events of a few reads into one
/// transaction instead of one per read, trading a bounded wait for fewer commits
/// (docs/operations.md, "Throughput, latency and memory: the batching keys").
public struct Batcher<Element> {
    public let maxEvents: Int
    public let maxWaitNanos: Int64
    public let lingerNanos: Int64
    public private(set) var buffer: [Element] = []
    private var openedAt: Int64?

    public init(maxEvents: Int, maxWaitNanos: Int64, lingerNanos: Int64 = 0) {
        self.maxEvents = max(1, maxEvents)
        self.maxWaitNanos = max(0, maxWaitNanos)
        self.lingerNanos = min(max(0, lingerNanos), self.maxWaitNanos)
        buffer.reserveCapacity(self.maxEvents)
    }

    public var isEmpty: Bool { buffer.isEmpty }
    public var count: Int { buffer.count }

    /// When the current batch must be cut at the latest, input or not (nil when empty).
    public var deadline: Int64? { openedAt.map { $0 + maxWaitNanos } }

    /// When the current batch is cut if no more input comes (nil when empty): the time to wait
    /// for input before calling `inputIdle`.
    public var idleDeadline: Int64? { openedAt.map { $0 + lingerNanos } }

    /// Adds one element; returns a full batch when this element completes one. `consuming`: the
    /// caller's value moves into the buffer (a copy would retain each of a stored event's buffers
    /// here and release them again when the caller's copy dies, once per event).
    public mutating func append(_ element: consuming Element, now: Int64) -> [Element]? {
        if buffer.isEmpty { openedAt = now }
        buffer.append(element)
        return buffer.count >= maxEvents ? cut() : nil
    }

    /// Returns the batch if its oldest element has waited long enough.
    public mutating func flushIfDue(now: Int64) -> [Element]? {
        guard let deadline, now >= deadline else { return nil }
        return cut()
    }

    /// The reader has nothing more right now: cut the batch once its oldest element has waited
    /// the linger (at once without one).
    public mutating func inputIdle(now: Int64) -> [Element]? {
        guard let idleDeadline, now >= idleDeadline else { return nil }
        return cut()
    }

    /// Cut whatever is buffered, now (a routing change, shutdown).
    public mutating func inputDrained() -> [Element]? {
        buffer.isEmpty ? nil : cut()
    }

    private mutating func cut() -> [Element] {
        let batch = buffer
        buffer.removeAll(keepingCapacity: true)
        openedAt = nil
        return batch
    }
}
