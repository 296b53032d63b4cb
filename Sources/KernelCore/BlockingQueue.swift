#if canImport(Glibc)
import Glibc
#endif

/// A bounded FIFO between pipeline threads. `put` blocks while the queue is full: that is the
/// backpressure that stops the reader when Postgres falls behind. Items are weighed (events per
/// batch) so the bound is in events, not in batches.
public final class BlockingQueue<Element>: @unchecked Sendable {
    // @unchecked: every field is guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var notEmpty = pthread_cond_t()
    private var notFull = pthread_cond_t()
    /// Slots before `head` are taken and hold nil: a taken element must not stay referenced
    /// until the array is compacted (up to 64 batches and their events were kept alive).
    private var items: [(element: Element?, weight: Int)] = []
    private var head = 0
    private var weight = 0
    private var closed = false
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&notEmpty, &attr)
        pthread_cond_init(&notFull, &attr)
        pthread_condattr_destroy(&attr)
    }

    /// Adds `element`, blocking while the queue holds `capacity` weight or more (an element heavier
    /// than the capacity is admitted alone into an empty queue). Returns false once closed.
    @discardableResult
    public func put(_ element: Element, weight w: Int = 1) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while !closed && weight > 0 && weight + w > capacity {
            pthread_cond_wait(&notFull, &mutex)
        }
        guard !closed else { return false }
        items.append((element, w))
        weight += w
        pthread_cond_signal(&notEmpty)
        return true
    }

    /// Removes the oldest element, waiting up to `timeoutSeconds` (nil: forever). Returns nil on
    /// timeout, or when the queue is closed and empty.
    public func take(timeoutSeconds: Double? = nil) -> Element? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if head == items.count, let timeoutSeconds {
            var deadline = Self.deadline(after: timeoutSeconds)
            while head == items.count && !closed {
                if pthread_cond_timedwait(&notEmpty, &mutex, &deadline) == ETIMEDOUT { break }
            }
        } else {
            while head == items.count && !closed { pthread_cond_wait(&notEmpty, &mutex) }
        }
        guard head < items.count else { return nil }
        return popLocked()
    }

    /// Removes the oldest element if there is one, without waiting.
    public func tryTake() -> Element? { tryTake(maxWeight: .max) }

    /// Removes the oldest element if there is one weighing at most `maxWeight`, without waiting.
    public func tryTake(maxWeight: Int) -> Element? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return head < items.count && items[head].weight <= maxWeight ? popLocked() : nil
    }

    /// Stops accepting elements and wakes every waiter; queued elements can still be taken.
    public func close() {
        pthread_mutex_lock(&mutex)
        closed = true
        pthread_cond_broadcast(&notEmpty)
        pthread_cond_broadcast(&notFull)
        pthread_mutex_unlock(&mutex)
    }

    /// Total weight queued.
    public var queuedWeight: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return weight
    }

    public var isEmpty: Bool { queuedWeight == 0 }

    /// True once `close()` was called and every element has been taken.
    public var isClosedAndEmpty: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return closed && head == items.count
    }

    private func popLocked() -> Element {
        let element = items[head].element!
        items[head].element = nil
        weight -= items[head].weight
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        pthread_cond_signal(&notFull)
        return element
    }

    private static func deadline(after seconds: Double) -> timespec {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let ns = Int(seconds * 1e9) + ts.tv_nsec
        ts.tv_sec += ns / 1_000_000_000
        ts.tv_nsec = ns % 1_000_000_000
        return ts
    }
}
