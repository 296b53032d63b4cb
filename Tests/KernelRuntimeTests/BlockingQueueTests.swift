import KernelRuntime
import Testing

/// The queue between pipeline threads, driven from one thread: order, weight, close, and that a
/// taken element is no longer referenced by the queue (it used to stay alive until 64 more had
/// been taken, which kept whole batches of events in memory).
@Suite("BlockingQueue")
struct BlockingQueueTests {
    final class Payload: Sendable {
        let n: Int
        init(_ n: Int) { self.n = n }
    }

    @Test("elements come out in order; weight counts what is queued")
    func order() {
        let q = BlockingQueue<Int>(capacity: 100)
        for i in 0..<33 { q.put(i, weight: 3) }
        #expect(q.queuedWeight == 99)
        var taken: [Int] = []
        // Past the compaction point (65 taken) as well: put and take in turn.
        for i in 33..<200 {
            if let next = q.tryTake() { taken.append(next) }
            q.put(i, weight: 3)
        }
        while let next = q.tryTake() { taken.append(next) }
        #expect(taken == Array(0..<200))
        #expect(q.queuedWeight == 0)
    }

    @Test("a taken element is released by the queue at once")
    func takenElementReleased() {
        let q = BlockingQueue<Payload>(capacity: 1_000)
        weak var firstTaken: Payload?
        do {
            for i in 0..<10 { q.put(Payload(i)) }
            let taken = q.take()
            #expect(taken?.n == 0)
            firstTaken = taken
            #expect(firstTaken != nil)
        }
        // Nine elements are still queued and the array has not been compacted: the taken one
        // must be gone all the same.
        #expect(firstTaken == nil)
        #expect(q.queuedWeight == 9)
        var seen: [Int] = []
        while let p = q.tryTake() { seen.append(p.n) }
        #expect(seen == Array(1..<10))
    }

    @Test("tryTake(maxWeight:) takes the oldest element only if it is light enough")
    func takeUpToWeight() {
        let q = BlockingQueue<String>(capacity: 10_000)
        q.put("a", weight: 1000)
        q.put("b", weight: 1000)
        q.put("c", weight: 400)
        #expect(q.tryTake(maxWeight: 999) == nil, "the head weighs 1000")
        #expect(q.tryTake(maxWeight: 1000) == "a")
        #expect(q.tryTake(maxWeight: 0) == nil)
        #expect(q.tryTake(maxWeight: 5000) == "b")
        #expect(q.tryTake(maxWeight: 400) == "c")
        #expect(q.tryTake(maxWeight: .max) == nil)
        #expect(q.queuedWeight == 0)
    }

    @Test("after close, queued elements can still be taken, then take returns nil")
    func close() {
        let q = BlockingQueue<Int>(capacity: 10)
        q.put(1)
        q.put(2)
        q.close()
        #expect(q.put(3) == false)
        #expect(q.take() == 1)
        #expect(q.take(timeoutSeconds: 0.01) == 2)
        #expect(q.take() == nil)
        #expect(q.isClosedAndEmpty)
    }
}
