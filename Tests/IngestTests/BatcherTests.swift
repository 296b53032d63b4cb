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

/// `postgres.batch_linger_ms`: at low rates the events of several reads share one batch.
@Suite("Batcher linger")
struct BatcherLingerTests {
    @Test func withoutALingerAnIdleInputCutsAtOnce() {
        var b = Batcher<Int>(maxEvents: 100, maxWaitNanos: 1_000)
        #expect(b.append(1, now: 10) == nil)
        #expect(b.idleDeadline == 10)
        #expect(b.inputIdle(now: 10) == [1])
        #expect(b.inputIdle(now: 11) == nil, "nothing buffered")
    }

    @Test func anIdleInputWaitsForTheLingerThenCutsEverythingGathered() {
        var b = Batcher<Int>(maxEvents: 100, maxWaitNanos: 1_000, lingerNanos: 300)
        #expect(b.append(1, now: 100) == nil)
        #expect(b.idleDeadline == 400, "the linger counts from the batch's first event")
        #expect(b.inputIdle(now: 150) == nil)
        #expect(b.append(2, now: 250) == nil)
        #expect(b.inputIdle(now: 399) == nil)
        #expect(b.idleDeadline == 400, "a later event does not push the cut back")
        #expect(b.inputIdle(now: 400) == [1, 2])
        #expect(b.idleDeadline == nil)
    }

    @Test func underLoadTheLingerChangesNothing() {
        var b = Batcher<Int>(maxEvents: 3, maxWaitNanos: 1_000, lingerNanos: 300)
        #expect(b.append(1, now: 0) == nil)
        #expect(b.append(2, now: 500) == nil)
        #expect(b.flushIfDue(now: 999) == nil, "input keeps coming: only size or max wait cut")
        #expect(b.append(3, now: 600) == [1, 2, 3])
        #expect(b.append(4, now: 700) == nil)
        #expect(b.flushIfDue(now: 1_700) == [4])
    }

    @Test func theLingerNeverExceedsTheMaxWaitAndAForcedCutTakesAll() {
        var b = Batcher<Int>(maxEvents: 10, maxWaitNanos: 200, lingerNanos: 5_000)
        #expect(b.lingerNanos == 200)
        #expect(b.append(1, now: 0) == nil)
        #expect(b.inputIdle(now: 199) == nil)
        #expect(b.inputDrained() == [1], "a routing change or shutdown cuts at once")
        #expect(b.append(2, now: 300) == nil)
        #expect(b.inputIdle(now: 500) == [2])
    }
}
