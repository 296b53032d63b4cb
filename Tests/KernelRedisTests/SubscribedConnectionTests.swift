import Foundation
import KernelRedis
import Testing

/// A subscribed connection (`send`, `nextReply(timeoutMs:)`), as the kernel's revocation listener
/// uses it (docs/architecture.md, "Deregistrations and revocations"), against the real Redis.
@Suite("Redis subscribed connection")
struct SubscribedConnectionTests {
    static let addr = ProcessInfo.processInfo.environment["KERNEL_REDIS_ADDR"] ?? "127.0.0.1:16379"

    func connect() throws -> RedisConnection {
        try RedisConnection(endpoint: RedisConnection.Endpoint(address: Self.addr)!, timeoutMs: 5000)
    }

    @Test("a quiet wait answers nil and leaves the connection usable; messages and PING answers arrive in order")
    func quietWaitsThenMessages() throws {
        let subscriber = try connect()
        let publisher = try connect()
        defer { subscriber.close(); publisher.close() }
        let channel = "dk-test:sub:\(UUID().uuidString)"
        let subscribed = try subscriber.command(["SUBSCRIBE", channel])
        #expect(subscribed == .array([.string(Array("subscribe".utf8)), .string(Array(channel.utf8)), .integer(1)]))

        let started = Date()
        #expect(try subscriber.nextReply(timeoutMs: 200) == nil)
        #expect(Date().timeIntervalSince(started) >= 0.15, "it waited")
        #expect(subscriber.isOpen, "a wait that found nothing does not break the connection")

        // Two messages in one burst may arrive in one read: both come out, in order.
        #expect(try publisher.command(["PUBLISH", channel, "one"]) == .integer(1))
        #expect(try publisher.command(["PUBLISH", channel, "two"]) == .integer(1))
        try subscriber.send([Array("PING".utf8)])
        var texts: [String] = []
        let deadline = Date().addingTimeInterval(5)
        while texts.count < 3 && Date() < deadline {
            guard let reply = try subscriber.nextReply(timeoutMs: 250), let items = reply.array else { continue }
            texts.append(items.compactMap(\.text).joined(separator: "|"))
        }
        #expect(texts == ["message|\(channel)|one", "message|\(channel)|two", "pong|"])
    }

    @Test("a closed server connection is an error, not an endless wait")
    func killedConnectionThrows() throws {
        let subscriber = try connect()
        let admin = try connect()
        defer { subscriber.close(); admin.close() }
        let name = "dk-test-sub-\(UUID().uuidString.prefix(8))"
        _ = try subscriber.command(["CLIENT", "SETNAME", name])
        _ = try subscriber.command(["SUBSCRIBE", "dk-test:sub:\(UUID().uuidString)"])
        let list = try admin.command(["CLIENT", "LIST"]).text ?? ""
        let id = list.split(separator: "\n").first { $0.contains("name=\(name)") }?
            .split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3)
        #expect(id != nil, "the subscriber is listed")
        _ = try admin.command(["CLIENT", "KILL", "ID", String(id ?? "")])
        #expect(throws: RedisError.self) {
            for _ in 0..<20 { _ = try subscriber.nextReply(timeoutMs: 250) }
        }
        #expect(!subscriber.isOpen)
    }
}
