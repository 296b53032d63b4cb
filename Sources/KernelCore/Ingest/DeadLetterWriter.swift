import KernelRedis

/// Writes dead letters to the DLQ stream synchronously on its own connection, for callers that
/// must know they are durable before going on (the spill replayer erases a segment only after
/// its refused rows are in the DLQ). The pipeline's hot path uses the `Acknowledger` instead.
public final class DeadLetterWriter: @unchecked Sendable {
    // @unchecked: used from one thread at a time.
    let dlqStream: String
    let settings: RedisSettings
    private var connection: (any RedisClient)?

    public init(dlqStream: String, settings: RedisSettings) {
        self.dlqStream = dlqStream
        self.settings = settings
    }

    /// XADDs every letter (pipelined); throws if any was refused or Redis is unreachable.
    public func write(_ letters: [DeadLetter]) throws(RedisError) {
        guard !letters.isEmpty else { return }
        let redis: any RedisClient
        if let connection { redis = connection } else {
            redis = try settings.connectClient()
            connection = redis
        }
        do throws(RedisError) {
            let replies = try redis.pipeline(letters.map { DeadLetterWriter.xadd($0, stream: dlqStream) })
            for reply in replies { if case .error(let message) = reply { throw RedisError(kind: .reply, message: "XADD: \(message)") } }
        } catch {
            connection?.close()
            connection = nil
            throw error
        }
    }

    public func close() {
        connection?.close()
        connection = nil
    }

    /// The DLQ entry (docs/protocol.md, "Streams and fields"): `id`, `payload` (original bytes; `{}` when empty), `reason`,
    /// `detail`. Never the token.
    static func xadd(_ letter: DeadLetter, stream: String) -> [[UInt8]] {
        let payload = letter.entry.payload.flatMap { $0.isEmpty ? nil : $0 } ?? Array("{}".utf8)
        return [Array("XADD".utf8), Array(stream.utf8), Array("*".utf8),
                Array("id".utf8), Array(letter.entry.dlqID.utf8),
                Array("payload".utf8), payload,
                Array("reason".utf8), Array(letter.reason.rawValue.utf8),
                Array("detail".utf8), Array(letter.detail.utf8)]
            + (letter.producer.map { [Array("producer_id".utf8), Array($0.description.utf8)] } ?? [])
    }
}
