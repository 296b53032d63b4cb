#if canImport(Glibc)
import Glibc
#endif

/// A bounded FIFO between pipeline threads. `put` blocks while the queue is full: that is the
/// backpressure that stops the reader when Postgres falls behind. Items are weighed (events per
/// batch) so the bound is in events, not in batches.
///
/// Inlinable, so each stage's module specializes it for its element type: unspecialized, every
/// `put` and `take` looked up the metadata of `(Element?, Int)` in the runtime's cache (1.2 % of
/// the kernel's CPU at 10k events/s, docs/verification.md, "The whole bench at `8893d76`").
public final class BlockingQueue<Element>: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`.
    @usableFromInline let lock = ConditionLock(conditions: 2)
    /// Slots before `head` are taken and hold nil: a taken element must not stay referenced
    /// until the array is compacted (up to 64 batches and their events were kept alive).
    @usableFromInline var items: [(element: Element?, weight: Int)] = []
    @usableFromInline var head = 0
    @usableFromInline var weight = 0
    @usableFromInline var closed = false
    public let capacity: Int

    /// The conditions of `lock`.
    @inlinable static var notEmpty: Int { 0 }
    @inlinable static var notFull: Int { 1 }

    @inlinable
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds `element`, blocking while the queue holds `capacity` weight or more (an element heavier
    /// than the capacity is admitted alone into an empty queue). Returns false once closed.
    @inlinable @discardableResult
    public func put(_ element: Element, weight w: Int = 1) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        while !closed && weight > 0 && weight + w > capacity {
            lock.wait(Self.notFull)
        }
        guard !closed else { return false }
        items.append((element, w))
        weight += w
        lock.signal(Self.notEmpty)
        return true
    }

    /// Removes the oldest element, waiting up to `timeoutSeconds` (nil: forever). Returns nil on
    /// timeout, or when the queue is closed and empty.
    @inlinable
    public func take(timeoutSeconds: Double? = nil) -> Element? {
        lock.lock()
        defer { lock.unlock() }
        if head == items.count, let timeoutSeconds {
            let deadline = ConditionLock.deadline(afterSeconds: timeoutSeconds)
            while head == items.count && !closed {
                if !lock.wait(Self.notEmpty, until: deadline) { break }
            }
        } else {
            while head == items.count && !closed { lock.wait(Self.notEmpty) }
        }
        guard head < items.count else { return nil }
        return popLocked()
    }

    /// Removes the oldest element if there is one, without waiting.
    @inlinable
    public func tryTake() -> Element? { tryTake(maxWeight: .max) }

    /// Removes the oldest element if there is one weighing at most `maxWeight`, without waiting.
    @inlinable
    public func tryTake(maxWeight: Int) -> Element? {
        lock.withLock { head < items.count && items[head].weight <= maxWeight ? popLocked() : nil }
    }

    /// Stops accepting elements and wakes every waiter; queued elements can still be taken.
    @inlinable
    public func close() {
        lock.withLock {
            closed = true
            lock.broadcast(Self.notEmpty)
            lock.broadcast(Self.notFull)
        }
    }

    /// Total weight queued.
    @inlinable
    public var queuedWeight: Int {
        lock.withLock { weight }
    }

    @inlinable
    public var isEmpty: Bool { queuedWeight == 0 }

    /// True once `close()` was called and every element has been taken.
    @inlinable
    public var isClosedAndEmpty: Bool {
        lock.withLock { closed && head == items.count }
    }

    @inlinable
    func popLocked() -> Element {
        let element = items[head].element!
        items[head].element = nil
        weight -= items[head].weight
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        lock.signal(Self.notFull)
        return element
    }
}
