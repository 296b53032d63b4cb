import KernelCore
import Testing

/// The batcher as a state machine: no threads, no clock but the one passed in.
@Suite("Batcher")
struct BatcherTests {
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
