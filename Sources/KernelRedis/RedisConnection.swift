import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// One blocking hiredis connection, RESP2 over TCP or TLS (TLS only in a build with hiredis_ssl:
/// docs/platform-notes.md, "hiredis 0.14 and 1.x").
/// Not thread-safe: a connection belongs to one dedicated thread at a time; calls block.
public final class RedisConnection: RedisClient {
    public struct Endpoint: Sendable, Hashable {
        public var host: String
        public var port: Int32
        public init(host: String, port: Int32) { self.host = host; self.port = port }

        /// Parses "host:port" (IPv6 as "[::1]:6379").
        public init?(address: String) {
            var host: Substring
            let portText: Substring
            if address.hasPrefix("[") {
                guard let close = address.firstIndex(of: "]") else { return nil }
                host = address[address.index(after: address.startIndex)..<close]
                let rest = address[address.index(after: close)...]
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            } else {
                guard let colon = address.lastIndex(of: ":") else { return nil }
                host = address[..<colon]
                portText = address[address.index(after: colon)...]
            }
            if host.isEmpty { host = "127.0.0.1" }
            guard let port = Int32(portText), (1...65535).contains(port) else { return nil }
            self.host = String(host)
            self.port = port
        }
    }

    private var context: UnsafeMutablePointer<redisContext>?
    /// Where the context's reply objects live (see shim.h); reset after each reply is read.
    private var arena: UnsafeMutablePointer<dk_reply_arena>?
    /// The OpenSSL session of a TLS connection (owned by hiredis, freed by redisFree); nil on TCP.
    private var tlsSession: UnsafeMutableRawPointer?
    public let endpoint: Endpoint

    /// Connects, runs the TLS handshake when `tls` is given, and, when given, authenticates and
    /// selects the database. `timeoutMs` bounds connect, the handshake and every later command
    /// (reads with BLOCK must pass a larger one to `setTimeout`, or hiredis waits forever on a
    /// timed-out socket).
    public init(endpoint: Endpoint, timeoutMs: Int, username: String? = nil, password: String? = nil, db: Int = 0,
                tls: RedisSettings.TLS? = nil) throws(RedisError) {
        self.endpoint = endpoint
        let tv = Self.timeval(ms: timeoutMs)
        guard let ctx = redisConnectWithTimeout(endpoint.host, endpoint.port, tv) else {
            throw RedisError(kind: .connect, message: "cannot allocate redis context")
        }
        if ctx.pointee.err != 0 {
            let message = Self.errorString(ctx)
            redisFree(ctx)
            throw RedisError(kind: .connect, message: "\(endpoint.host):\(endpoint.port): \(message)")
        }
        guard let arena = dk_reply_arena_new() else {
            redisFree(ctx)
            throw RedisError(kind: .connect, message: "cannot allocate the reply arena")
        }
        dk_reader_use_arena(ctx, arena)
        self.arena = arena
        context = ctx
        // Before the handshake: hiredis 1.x sets no socket timeout from the connect timeout, and
        // a server that accepts TCP but never answers the handshake would block forever.
        _ = redisSetTimeout(ctx, tv)
        if let tls {
            do {
                tlsSession = try Self.startTLS(ctx, endpoint: endpoint, tls: tls)
            } catch {
                close()
                throw error
            }
        }
        if let password, !password.isEmpty {
            let args = username.map { $0.isEmpty ? ["AUTH", password] : ["AUTH", $0, password] } ?? ["AUTH", password]
            if case .error(let e) = try command(args) {
                close()
                // Never echo the password; Redis' own message does not contain it.
                throw RedisError(kind: .connect, message: "AUTH refused: \(e)")
            }
        }
        if db != 0, case .error(let e) = try command(["SELECT", String(db)]) {
            close()
            throw RedisError(kind: .connect, message: "SELECT \(db) refused: \(e)")
        }
    }

    deinit { close() }

    public var isOpen: Bool { context != nil }

    public func close() {
        if let context { redisFree(context) }
        context = nil
        tlsSession = nil   // freed by redisFree
        dk_reply_arena_free(arena)   // after redisFree: the reader may still hold a partial reply
        arena = nil
    }

    /// Changes the socket timeout for following commands.
    public func setTimeout(ms: Int) {
        if let context { _ = redisSetTimeout(context, Self.timeval(ms: ms)) }
    }

    /// Runs one command. An error reply is returned as `.error`; I/O failures throw and close the
    /// connection (hiredis contexts are unusable after an I/O error).
    @discardableResult
    public func command(_ args: [[UInt8]]) throws(RedisError) -> RedisReply {
        try append(args)
        return try readReply()
    }

    /// Pipelines several commands in one round trip and returns their replies in order.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        for args in commands { try append(args) }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    // MARK: subscribed connections

    /// Sends a command without reading its reply: on a subscribed connection replies come, with
    /// the messages, through `nextReply(timeoutMs:)`.
    public func send(_ args: [[UInt8]]) throws(RedisError) {
        try append(args)
        guard let context else { throw RedisError(kind: .io, message: "connection closed") }
        var done: Int32 = 0
        repeat {
            guard redisBufferWrite(context, &done) == REDIS_OK else {
                let message = Self.errorString(context)
                close()
                throw RedisError(kind: .io, message: message)
            }
        } while done == 0
    }

    /// The next reply the server sends (a pub/sub message, or the answer to `send`), waiting at
    /// most `timeoutMs` for it; nil when none came in time. Unlike a read under the socket
    /// timeout, a quiet connection stays usable (hiredis gives up a context whose read timed out).
    public func nextReply(timeoutMs: Int) throws(RedisError) -> RedisReply? {
        if let reply = try bufferedReply() { return reply }
        guard let context else { throw RedisError(kind: .io, message: "connection closed") }
        // Bytes OpenSSL already decrypted are no longer on the socket: poll would not see them.
        if dk_tls_pending(tlsSession) == 0 {
            var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(clamping: timeoutMs)) > 0 else { return nil }   // timeout, or EINTR
        }
        guard redisBufferRead(context) == REDIS_OK else {
            let message = Self.errorString(context)
            close()
            throw RedisError(kind: .io, message: message)
        }
        return try bufferedReply()
    }

    /// A complete reply already read from the socket, if there is one.
    private func bufferedReply() throws(RedisError) -> RedisReply? {
        guard let context else { throw RedisError(kind: .io, message: "connection closed") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else {
            let message = Self.errorString(context)
            close()
            throw RedisError(kind: .protocolError, message: message)
        }
        guard let raw else { return nil }
        defer { if let arena { dk_reply_arena_reset(arena) } }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func append(_ args: [[UInt8]]) throws(RedisError) {
        guard let context else { throw RedisError(kind: .io, message: "connection closed") }
        // The RESP encoding, written once here and handed to hiredis as is: its argv path copied
        // every argument twice more and allocated per command (a visible cost for the acker,
        // which sends an id per acknowledged entry).
        var size = 16
        for a in args { size += a.count + 24 }
        var command: [UInt8] = []
        command.reserveCapacity(size)
        Self.appendDecimal(prefix: UInt8(ascii: "*"), args.count, to: &command)
        for a in args {
            Self.appendDecimal(prefix: UInt8(ascii: "$"), a.count, to: &command)
            command.append(contentsOf: a)
            command.append(0x0D)
            command.append(0x0A)
        }
        let rc = command.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        guard rc == REDIS_OK else {
            let message = Self.errorString(context)
            close()
            throw RedisError(kind: .io, message: message)
        }
    }

    /// `<prefix><n>\r\n`.
    private static func appendDecimal(prefix: UInt8, _ n: Int, to out: inout [UInt8]) {
        out.append(prefix)
        out.append(contentsOf: String(n).utf8)   // a small string: no allocation
        out.append(0x0D)
        out.append(0x0A)
    }

    private func readReply() throws(RedisError) -> RedisReply {
        try withNextReply { Self.convert($0) }
    }

    /// Runs one command and hands its reply to `decode` without copying it (`RedisReplyView`).
    public func command<T>(_ args: [[UInt8]], decode: (RedisReplyView) -> T) throws(RedisError) -> T {
        try append(args)
        return try withNextReply { decode(RedisReplyView(raw: UnsafePointer($0))) }
    }

    /// Reads the next reply and lends it to `body`; hiredis frees it when `body` returns.
    private func withNextReply<T>(_ body: (UnsafeMutablePointer<redisReply>) -> T) throws(RedisError) -> T {
        guard let context else { throw RedisError(kind: .io, message: "connection closed") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            let message = Self.errorString(context)
            close()
            throw RedisError(kind: .io, message: message)
        }
        defer { if let arena { dk_reply_arena_reset(arena) } }   // the whole reply at once (see shim.h)
        return body(raw.assumingMemoryBound(to: redisReply.self))
    }

    static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .string(Array(UnsafeRawBufferPointer(start: reply.str, count: reply.len)))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: reply.str, count: reply.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: reply.str, count: reply.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(reply.integer)
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                if let e = reply.element[i] { items.append(convert(e)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    /// The TLS handshake on connected `ctx` (docs/infrastructure.md, "Redis over TLS"): a fresh
    /// client context from the configured files (re-read on every connect, so a rotated CA or
    /// client certificate is picked up on reconnect), the name checked with `verify: full`.
    /// Returns the OpenSSL session, which hiredis then owns.
    private static func startTLS(_ ctx: UnsafeMutablePointer<redisContext>, endpoint: Endpoint,
                                 tls: RedisSettings.TLS) throws(RedisError) -> UnsafeMutableRawPointer {
        let capacity = 512
        var message = [CChar](repeating: 0, count: capacity)
        guard let sslContext = dk_tls_context_new(tls.caFile, tls.certFile, tls.keyFile, 1, &message, capacity) else {
            throw RedisError(kind: .connect, message: "\(endpoint.host):\(endpoint.port): \(Self.text(message))")
        }
        defer { dk_tls_context_free(sslContext) }   // the session keeps its own reference
        let name = tls.serverName ?? endpoint.host
        let nameIsAddress = Self.isIPAddress(name)
        let checkName: String? = tls.verify == .full ? name : nil
        // SNI carries host names only (RFC 6066, section 3).
        let sniName: String? = nameIsAddress ? nil : name
        var session: UnsafeMutableRawPointer?
        guard dk_tls_connect(ctx, sslContext, checkName, nameIsAddress ? 1 : 0, sniName, &session, &message, capacity) == 0,
              let session else {
            throw RedisError(kind: .connect, message: "\(endpoint.host):\(endpoint.port): \(Self.text(message))"
                             + (tls.verify == .full ? " (redis.tls.verify: full checks the name \(name))" : ""))
        }
        return session
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    private static func text(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private static func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            let s = String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            return s.isEmpty ? "error \(ctx.pointee.err)" : s
        }
    }

    private static func timeval(ms: Int) -> Glibc.timeval {
        Glibc.timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
    }
}
