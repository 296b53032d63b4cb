import KernelCore
import Testing

/// The pipeline's queue and batcher as state machines: no threads, no clock but the one passed in.
@Suite("Pipeline queue and batcher")
struct PipelineQueueTests {
    func merge(_ into: inout [Int], _ more: [Int]) { into.append(contentsOf: more) }

    @Test("a batch still waiting absorbs later ones with the same key, up to the bound")
    func mergesWhileWaiting() {
        let q = BlockingQueue<[Int]>(capacity: 100)
        q.put([1, 2], weight: 2, mergeKey: 7, upTo: 5, merge)
        q.put([3], weight: 1, mergeKey: 7, upTo: 5, merge)
        q.put([4, 5], weight: 2, mergeKey: 7, upTo: 5, merge)
        // 5 + 1 > 5: a new element.
        q.put([6], weight: 1, mergeKey: 7, upTo: 5, merge)
        #expect(q.queuedWeight == 6)
        #expect(q.tryTake() == [1, 2, 3, 4, 5])
        #expect(q.tryTake() == [6])
        #expect(q.tryTake() == nil)
    }

    @Test("never merged across keys, into a plain put, or into an element already taken")
    func mergeBoundaries() {
        let q = BlockingQueue<[Int]>(capacity: 100)
        q.put([1], weight: 1, mergeKey: 1, upTo: 100, merge)
        q.put([2], weight: 1, mergeKey: 2, upTo: 100, merge)     // another routing generation
        q.put([3], weight: 1)                                      // plain put: no key
        q.put([4], weight: 1, mergeKey: 2, upTo: 100, merge)
        #expect(q.tryTake() == [1])
        #expect(q.tryTake() == [2])
        #expect(q.tryTake() == [3])
        #expect(q.tryTake() == [4])
        // Taken by a writer: the next batch is a new element even with the same key.
        q.put([5], weight: 1, mergeKey: 2, upTo: 100, merge)
        #expect(q.tryTake() == [5])
        q.put([6], weight: 1, mergeKey: 2, upTo: 100, merge)
        #expect(q.queuedWeight == 1)
        #expect(q.tryTake() == [6])
    }

    @Test("a merging put on a closed queue is refused")
    func closed() {
        let q = BlockingQueue<[Int]>(capacity: 10)
        q.put([1], weight: 1, mergeKey: 0, upTo: 10, merge)
        q.close()
        #expect(q.put([2], weight: 1, mergeKey: 0, upTo: 10, merge) == false)
        #expect(q.tryTake() == [1])
        #expect(q.isClosedAndEmpty)
    }

    @Test("the batcher cuts on size, on age, and at once when the input drains")
    func batcher() {
        var b = Batcher<Int>(maxEvents: 3, maxWaitNanos: 1_000)
        #expect(b.append(1, now: 100) == nil)
        #expect(b.deadline == 1_100)
        #expect(b.append(2, now: 150) == nil)
        #expect(b.append(3, now: 200) == [1, 2, 3])
        #expect(b.isEmpty && b.deadline == nil)
        #expect(b.append(4, now: 300) == nil)
        #expect(b.flushIfDue(now: 1_299) == nil)
        #expect(b.flushIfDue(now: 1_300) == [4])
        #expect(b.inputDrained() == nil)
        #expect(b.append(5, now: 2_000) == nil)
        #expect(b.inputDrained() == [5])
    }
}
