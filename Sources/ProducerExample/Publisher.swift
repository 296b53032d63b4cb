import Foundation

/// Publishes events at a steady rate, round-robin over the registered subjects, renewing the token
/// before it expires. Each event goes to its subject's stream: `P+events`, or with `--shards N`
/// the shard stream `P+events:{i}` of the subject (docs/producers.md, "Sharded streams").
struct Publisher {
    /// One registered subject and the generator of its events.
    struct Subject {
        let family: MarketFamily
        let subjectID: String
        /// The event stream of this subject (its shard's stream when the stream is sharded).
        let stream: String
    }

    let channel: ControlChannel
    let onboarding: OnboardingClient
    let producerID: String
    let subjects: [Subject]
    let rate: Double
    let seconds: Double?
    /// Renew when the token has less than this many seconds left.
    let renewMarginSeconds: Int64
    let stop: StopSignal

    struct Counts {
        var published = 0
        var byFamily: [MarketFamily: Int] = [:]
        var renewals = 0
    }

    func run(token initial: OnboardingClient.Token, simulator initialSimulator: MarketSimulator) throws(ProducerError) -> Counts {
        var token = initial
        var simulator = initialSimulator
        var counts = Counts()
        var nextRenewal: Int64 = 0
        let start = Date()

        while !stop.isRaised {
            let elapsed = Date().timeIntervalSince(start)
            if let seconds, elapsed >= seconds { break }

            let now = Int64(Date().timeIntervalSince1970)
            if token.expiresAt - now < renewMarginSeconds, now >= nextRenewal {
                token = try refreshed(token, now: now, counts: &counts)
                nextRenewal = now + 30
            }

            // Pace by the schedule, not by sleeping a fixed gap, so slow XADDs do not lower the rate.
            let due = Double(counts.published) / rate
            if due > elapsed {
                Thread.sleep(forTimeInterval: min(due - elapsed, 0.1))
                continue
            }

            let subject = subjects[counts.published % subjects.count]
            let nanos = EventEnvelopeBuilder.nowNanos()
            let payload = simulator.next(subject.family, nanos: nanos)
            let event = EventEnvelopeBuilder.envelope(
                subjectID: subject.subjectID, payload: payload, nanos: nanos,
                tags: [("core.symbol", simulator.symbol), ("core.venue", simulator.venue)])
            // MAXLEN ~ bounds the stream if the kernel falls behind; `~` lets Redis trim cheaply.
            try channel.run(["XADD", subject.stream, "MAXLEN", "~", "1000000", "*", "payload", event, "token", token.value])
            counts.published += 1
            counts.byFamily[subject.family, default: 0] += 1
        }
        return counts
    }

    /// Renews the token; falls back to a fresh exchange by certificate when it already expired.
    private func refreshed(_ token: OnboardingClient.Token, now: Int64,
                           counts: inout Counts) throws(ProducerError) -> OnboardingClient.Token {
        if let renewed = try onboarding.renew(token, producerID: producerID) {
            counts.renewals += 1
            onboarding.log("token renewed, expires at \(renewed.expiresAt)")
            return renewed
        }
        if token.expiresAt <= now {
            onboarding.log("token expired without renewal; exchanging the certificate again")
            return try onboarding.exchangeToken(producerID: producerID)
        }
        onboarding.log("no renewal answer; keeping the current token and retrying in 30 s")
        return token
    }
}
