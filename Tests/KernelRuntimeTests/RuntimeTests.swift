import KernelRuntime
import Synchronization
import Testing

/// The runtime pieces every stage builds on: a joinable thread runs and is joined, a semaphore
/// counts, a timed wait times out when nothing signals, a stop flag is seen by another thread.
@Suite("Runtime")
struct RuntimeTests {
    @Test("a joinable thread's work is visible after join; join twice is harmless")
    func joinable() {
        let counter = Atomic<Int>(0)
        let thread = JoinableThread(name: "dk-test-join") {
            for _ in 0..<1000 { counter.add(1, ordering: .relaxed) }
        }
        thread.join()
        thread.join()
        #expect(counter.load(ordering: .relaxed) == 1000)
    }

    @Test("a semaphore counts signals; a timed wait with no signal returns false")
    func semaphore() {
        let semaphore = Semaphore()
        #expect(!semaphore.wait(timeoutSeconds: 0.01))
        semaphore.signal()
        semaphore.signal()
        #expect(semaphore.wait(timeoutSeconds: 0.01))
        #expect(semaphore.wait(timeoutSeconds: 0.01))
        #expect(!semaphore.wait(timeoutSeconds: 0))
    }

    @Test("threads hand over through a ConditionLock and a stop flag")
    func handOver() {
        let lock = ConditionLock()
        let stop = StopFlag()
        let seen = Atomic<Int>(0)
        let done = Semaphore()
        DedicatedThread.start(name: "dk-test-wait") {
            lock.withLock { while !stop.isSet { lock.wait() } }
            seen.store(1, ordering: .relaxed)
            done.signal()
        }
        lock.withLock {
            stop.set()
            lock.broadcast()
        }
        done.wait()
        #expect(seen.load(ordering: .relaxed) == 1)
    }

    @Test("a deadline wait returns false once the deadline has passed")
    func deadline() {
        let lock = ConditionLock()
        let passed = ConditionLock.deadline(afterSeconds: 0)
        let signalled = lock.withLock { lock.wait(until: passed) }
        #expect(!signalled)
        #expect(monotonicNanos() > 0 && unixMicros() > 1_700_000_000_000_000)
    }
}
