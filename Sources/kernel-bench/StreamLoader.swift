import KernelRedis

/// Publishes generated events to the stream as producers do (`XADD key * payload … token …`),
/// pipelined.
struct StreamLoader {
    let redis: RedisConnection
    let streamKey: String
    let token: [UInt8]

    init(redis: RedisConnection, streamKey: String, token: String) {
        self.redis = redis
        self.streamKey = streamKey
        self.token = Array(token.utf8)
    }

    private static let xadd = Array("XADD".utf8), star = Array("*".utf8)
    private static let payloadField = Array("payload".utf8), tokenField = Array("token".utf8)

    func command(_ envelope: String) -> [[UInt8]] {
        [Self.xadd, Array(streamKey.utf8), Self.star, Self.payloadField, Array(envelope.utf8), Self.tokenField, token]
    }

    /// Sends the commands in one round trip; returns the new entry ids.
    @discardableResult
    func send(_ commands: [[[UInt8]]]) throws -> [StreamID] {
        let replies = try redis.pipeline(commands)
        return try replies.map { reply in
            guard let text = reply.text, let id = StreamID(text) else { throw BenchError("XADD failed: \(reply)") }
            return id
        }
    }

    /// Loads `count` events from `factory` in pipelines of `chunk`; `onTrade` sees every trade
    /// row in order. Returns the bytes of envelopes published.
    func preload(count: Int, factory: inout MarketEventFactory, chunk: Int = 1000,
                 onEvent: (BenchEvent) -> Void = { _ in }) throws -> Int {
        var bytes = 0
        var sent = 0
        while sent < count {
            let n = min(chunk, count - sent)
            let tsMicros = BenchClock.wallNanos() / 1000
            var commands: [[[UInt8]]] = []
            commands.reserveCapacity(n)
            for _ in 0..<n {
                let event = factory.next(tsMicros: tsMicros)
                bytes += event.envelope.utf8.count
                commands.append(command(event.envelope))
                onEvent(event)
            }
            try send(commands)
            sent += n
        }
        return bytes
    }
}
