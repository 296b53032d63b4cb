/// Decides when a batch is cut, as a pure state machine over an injected clock (nanoseconds of a
/// monotonic clock), so its timing is tested without sleeping.
///
/// A batch is cut when it holds `maxEvents`, when its oldest event has waited `maxWaitNanos`, or
/// at once when the reader has nothing more to give (`inputDrained`). The last rule keeps latency
/// low at low rates, while under load the input never drains and batches grow to full size.
public struct Batcher<Element> {
    public let maxEvents: Int
    public let maxWaitNanos: Int64
    public private(set) var buffer: [Element] = []
    private var openedAt: Int64?

    public init(maxEvents: Int, maxWaitNanos: Int64) {
        self.maxEvents = max(1, maxEvents)
        self.maxWaitNanos = max(0, maxWaitNanos)
        buffer.reserveCapacity(self.maxEvents)
    }

    public var isEmpty: Bool { buffer.isEmpty }
    public var count: Int { buffer.count }

    /// When the current batch must be cut at the latest (nil when empty).
    public var deadline: Int64? { openedAt.map { $0 + maxWaitNanos } }

    /// Adds one element; returns a full batch when this element completes one.
    public mutating func append(_ element: Element, now: Int64) -> [Element]? {
        if buffer.isEmpty { openedAt = now }
        buffer.append(element)
        return buffer.count >= maxEvents ? cut() : nil
    }

    /// Returns the batch if its oldest element has waited long enough.
    public mutating func flushIfDue(now: Int64) -> [Element]? {
        guard let deadline, now >= deadline else { return nil }
        return cut()
    }

    /// The reader has nothing more right now: cut whatever is buffered.
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
