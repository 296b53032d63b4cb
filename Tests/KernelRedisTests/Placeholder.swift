import Testing
@testable import KernelRedis
// PLACEHOLDER (helper A replaces this file).
@Test func redisClientProtocolPlaceholder() { #expect(RedisConnection.Endpoint(address: "127.0.0.1:6379")?.port == 6379) }
