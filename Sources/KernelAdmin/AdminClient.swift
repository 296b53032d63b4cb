import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A one-request-per-connection HTTP/1.1 client for the admin API (`kernel admin …`, tests):
/// plain HTTP, or HTTPS with an optional CA bundle and client certificate.
public struct AdminClient: Sendable {
    /// HTTPS options.
    public struct TLSOptions: Sendable {
        /// PEM CA bundle that signs the server certificate (nil: system roots).
        public var caFile: String?
        /// PEM client certificate and key (the server requires one).
        public var certFile: String?
        public var keyFile: String?

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }

    /// Status and body of one response.
    public struct Response: Sendable {
        public let status: Int
        public let body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// `http://host:port` or `https://host:port` (a path in the URL is ignored: admin paths are fixed).
    public struct BaseURL: Sendable, Equatable {
        public let https: Bool
        public let host: String
        public let port: Int

        public init?(_ text: String) {
            let rest: Substring
            if text.hasPrefix("http://") {
                https = false
                rest = text.dropFirst(7)
            } else if text.hasPrefix("https://") {
                https = true
                rest = text.dropFirst(8)
            } else {
                return nil
            }
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            var host: Substring
            var portText: Substring?
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { return nil }
                host = authority[authority.index(after: authority.startIndex)..<close]
                let after = authority[authority.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":") else { return nil }
                    portText = after.dropFirst()
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            if host.isEmpty { host = "127.0.0.1" }
            if let portText {
                guard let port = Int(portText), (1...65535).contains(port) else { return nil }
                self.port = port
            } else {
                port = https ? 443 : 80
            }
            self.host = String(host)
        }
    }

    public let baseURL: BaseURL
    public let signer: AdminRequestSigner?
    public let tls: TLSOptions
    /// Connect + response timeout.
    public let timeoutSeconds: Int64

    public init(baseURL: BaseURL, signer: AdminRequestSigner?, tls: TLSOptions = TLSOptions(), timeoutSeconds: Int64 = 10) {
        self.baseURL = baseURL
        self.signer = signer
        self.tls = tls
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends one request (signed when a signer is set). `path` has no query; `query` is appended
    /// unsigned (the query string is not covered by the signature: docs/admin.md, "Signing string").
    public func send(method: String, path: String, query: String? = nil, body: [UInt8] = [],
                     extraHeaders: [(String, String)] = []) async throws -> Response {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: baseURL.host.contains(":") ? "[\(baseURL.host)]:\(baseURL.port)" : "\(baseURL.host):\(baseURL.port)")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Content-Length", value: String(body.count))
        if !body.isEmpty { headers.add(name: "Content-Type", value: "application/json") }
        if let signer {
            for (name, value) in signer.headers(method: method, path: path, body: body) { headers.add(name: name, value: value) }
        }
        for (name, value) in extraHeaders { headers.replaceOrAdd(name: name, value: value) }
        let uri = query.map { $0.isEmpty ? path : path + "?" + $0 } ?? path
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri, headers: headers)

        let sslContext: NIOSSLContext? = try baseURL.https ? makeSSLContext() : nil
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Response.self)
        let host = baseURL.host
        let serverName: String? = Self.isIPAddress(host) ? nil : host
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(timeoutSeconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: baseURL.port).get()
        } catch {
            // NIO insists every promise be completed, even one nobody waits for.
            promise.fail(error)
            throw error
        }
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(timeoutSeconds)) {
            promise.fail(AdminClientError(message: "no response within \(timeoutSeconds) s"))
            channel.close(promise: nil)
        }
        var buffer = channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }

    private func makeSSLContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile = tls.caFile { configuration.trustRoots = .file(caFile) }
        if let certFile = tls.certFile, let keyFile = tls.keyFile {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        // IP-address URLs: the certificate's SAN must carry the IP; hostname check stays on.
        return try NIOSSLContext(configuration: configuration)
    }

    static func isIPAddress(_ host: String) -> Bool { SourceAddress.parse(address: host) != nil }
}

/// The admin request could not be completed (connection, TLS or timeout).
public struct AdminClientError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Collects one HTTP response and completes the promise with it.
final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: a channel handler runs on its channel's event loop only (NIO's rule).
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<AdminClient.Response>
    private var status = 0
    private var body: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<AdminClient.Response>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var buffer):
            if let bytes = buffer.readBytes(length: buffer.readableBytes) { body.append(contentsOf: bytes) }
        case .end:
            finish(.success(AdminClient.Response(status: status, body: body)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(AdminClientError(message: "connection closed before a complete response")))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<AdminClient.Response, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }
}
