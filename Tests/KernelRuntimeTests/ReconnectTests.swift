import KernelRuntime
import Testing

/// The reconnect loop every long-lived connection uses: what it reports, what it sleeps, when it
/// starts over from the base delay and when it gives up. Sleeps are recorded, not slept.
@Suite("Reconnect")
struct ReconnectTests {
    struct Refused: Error, Equatable { let attempt: Int }

    /// The delay `Backoff` may pick for the `attempt`-th consecutive failure (±25 % jitter).
    static func jitterRange(base: Int, max: Int, attempt: Int) -> ClosedRange<Int> {
        let d = min(max, base << attempt)
        return Int(Double(d) * 0.75)...Int(Double(d) * 1.25)
    }

    @Test("failures are reported with growing delays, each slept once, until the attempt succeeds")
    func retriesUntilSuccess() {
        var attempts = 0
        var reported: [RetryFailure<Refused>] = []
        var slept: [Int] = []
        let succeeded = retryWithBackoff(Backoff(baseMs: 100, maxMs: 300), until: StopFlag(), sleep: { slept.append($0) },
                                         failed: { reported.append($0) }) { _ throws(Refused) in
            attempts += 1
            if attempts <= 4 { throw Refused(attempt: attempts) }
        }
        #expect(succeeded)
        #expect(attempts == 5)
        #expect(reported.map(\.error) == [1, 2, 3, 4].map { Refused(attempt: $0) })
        #expect(reported.map(\.isFirst) == [true, false, false, false])
        #expect(slept == reported.map(\.retryMs))
        for (i, failure) in reported.enumerated() {
            #expect(Self.jitterRange(base: 100, max: 300, attempt: i).contains(failure.retryMs))
        }
    }

    @Test("connected() starts the delays over: the next failure counts as the first again")
    func connectedResets() {
        var attempts = 0
        var reported: [RetryFailure<Refused>] = []
        retryWithBackoff(Backoff(baseMs: 1000, maxMs: 64_000), until: StopFlag(), sleep: { _ in },
                         failed: { reported.append($0) }) { connected throws(Refused) in
            attempts += 1
            switch attempts {
            case 1, 2, 3: throw Refused(attempt: attempts)
            case 4:
                connected()
                throw Refused(attempt: attempts)
            default: return
            }
        }
        #expect(reported.map(\.isFirst) == [true, false, false, true])
        #expect(Self.jitterRange(base: 1000, max: 64_000, attempt: 2).contains(reported[2].retryMs))
        #expect(Self.jitterRange(base: 1000, max: 64_000, attempt: 0).contains(reported[3].retryMs))
    }

    @Test("once the stop flag is set, a failure ends the loop without a report or a sleep")
    func stopEnds() {
        let stop = StopFlag()
        var attempts = 0
        var reported = 0
        var slept = 0
        let succeeded = retryWithBackoff(Backoff(baseMs: 10, maxMs: 10), until: stop, sleep: { _ in slept += 1 },
                                         failed: { (_: RetryFailure<Refused>) in reported += 1 }) { _ throws(Refused) in
            attempts += 1
            if attempts == 2 { stop.set() }
            throw Refused(attempt: attempts)
        }
        #expect(!succeeded)
        #expect(attempts == 2)
        #expect(reported == 1 && slept == 1)
    }

    @Test("Backoff.pause reports the delay before sleeping it")
    func pause() {
        var backoff = Backoff(baseMs: 50, maxMs: 50)
        var events: [String] = []
        backoff.pause(sleep: { events.append("sleep \($0)") }) { events.append("report \($0)") }
        #expect(events.count == 2)
        #expect(events[0].hasPrefix("report ") && events[1] == "sleep " + events[0].dropFirst("report ".count))
        #expect(backoff.attempt == 1)
    }

    @Test("a sliced sleep returns once its stop flag is set, long before its delay")
    func slicedSleepStops() {
        let stop = StopFlag()
        let done = Semaphore()
        DedicatedThread.start(name: "dk-test-sleep") {
            sleepMs(3_600_000, unlessSet: stop, sliceMs: 5)
            done.signal()
        }
        stop.set()
        // An hour's sleep that ignored the flag would hang here.
        done.wait()
        #expect(stop.isSet)
    }
}
