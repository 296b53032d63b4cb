import Hummingbird
import HTTPTypes
import KernelJSON
import KernelMetrics
import Logging
import NIOCore

/// Routes the six exact paths of docs/admin.md and answers them. Anything else is 404.
struct AdminResponder: HTTPResponder {
    typealias Context = AdminRequestContext

    /// Largest admin request body read (review/revoke bodies are a few hundred bytes).
    static let maxBodyBytes = 64 * 1024

    let authenticator: AdminAuthenticator
    let handlers: AdminHandlers
    let readiness: ReadinessProbe
    let metrics: KernelMetrics
    let tlsEnabled: Bool
    let beforeScrape: @Sendable () -> Void
    let logger: Logger

    func respond(to request: Request, context: AdminRequestContext) async throws -> Response {
        let path = request.uri.path
        guard let route = AdminRoute(rawValue: path) else {
            return Self.text(.notFound, "not found\n")
        }
        let response = await respond(route: route, request: request, context: context)
        metrics.adminRequests(route: route.label, code: Int(response.status.code)).increment()
        return response
    }

    private func respond(route: AdminRoute, request: Request, context: AdminRequestContext) async -> Response {
        if route.authMethod != nil {
            return await authorized(route: route, request: request, context: context)
        }
        guard request.method == .get || request.method == .head else {
            return Self.text(.methodNotAllowed, "method not allowed\n")
        }
        // With TLS, client certificates are required on every path (docs/admin.md, "TLS").
        if tlsEnabled, await context.clientCertificateNames() == nil {
            metrics.adminMTLSDeniedTotal.increment()
            log(.warning, route: route, outcome: "denied", code: 401, reason: AdminDenial.Code.clientCertificateMissing.rawValue,
                from: context.peerAddress, principal: nil, detail: "no TLS client certificate")
            return Response(status: .unauthorized)
        }
        switch route {
        case .metrics:
            beforeScrape()
            var response = Self.text(.ok, metrics.render())
            response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        case .healthz:
            return Self.text(.ok, "ok")
        case .readyz:
            let state = await readiness.check()
            return Self.text(state.ready ? .ok : .serviceUnavailable, state.body)
        default:
            return Self.text(.notFound, "not found\n")
        }
    }

    /// `/auth*`: authenticate, then dispatch.
    private func authorized(route: AdminRoute, request: Request, context: AdminRequestContext) async -> Response {
        let from = context.peerAddress
        guard request.method.rawValue == route.authMethod else {
            return deny(route: route, AdminDenial(.methodNotAllowed, "\(request.method.rawValue) \(route.rawValue)"), from: from)
        }
        var request = request
        let body: [UInt8]
        do {
            var buffer = try await request.collectBody(upTo: Self.maxBodyBytes)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            return deny(route: route, AdminDenial(.bodyTooLarge, "body larger than \(Self.maxBodyBytes) bytes or unreadable"), from: from)
        }
        let headers = request.headers
        let credentials = AdminAuthenticator.Credentials(
            method: request.method.rawValue,
            path: request.uri.path,
            body: body,
            certificate: Self.header(headers, "X-SSH-Cert") ?? Self.header(headers, "X-Admin-Cert"),
            principal: Self.header(headers, "X-SSH-Principal"),
            nonce: Self.header(headers, "X-Admin-Nonce"),
            signature: Self.header(headers, "X-Admin-Signature"),
            peerAddress: from,
            clientCertificateNames: tlsEnabled ? await context.clientCertificateNames() : nil)
        let identity: AdminIdentity
        switch await authenticator.authenticate(credentials) {
        case .success(let id): identity = id
        case .failure(let denial): return deny(route: route, denial, from: from)
        }
        let reply: AdminReply
        switch route {
        case .auth: reply = await handlers.list(query: request.uri.queryParameters)
        case .review: reply = await handlers.review(body: body, admin: identity)
        case .revoke: reply = await handlers.revoke(body: body, admin: identity)
        default: reply = AdminReply(status: .notFound, body: nil, outcome: "not_found", reasonCode: "not_found")
        }
        let code = Int(reply.status.code)
        let level: Logger.Level = code >= 500 ? .error : code >= 400 ? .warning : .info
        log(level, route: route, outcome: reply.outcome, code: code, reason: reply.reasonCode, from: from,
            principal: identity.principal, detail: reply.detail, extra: reply.logMetadata)
        guard let json = reply.body else { return Response(status: reply.status) }
        var response = Self.text(reply.status, JSONWriter.serialize(json))
        response.headers[.contentType] = "application/json"
        return response
    }

    private func deny(route: AdminRoute, _ denial: AdminDenial, from: String?) -> Response {
        metrics.adminDenied(reason: denial.code.rawValue).increment()
        // docs/admin.md, "Logs": authorization denials log at warn (5xx and infrastructure failures at error).
        log(.warning, route: route, outcome: "denied", code: 401, reason: denial.code.rawValue, from: from, principal: nil,
            detail: denial.detail)
        return Response(status: .unauthorized)
    }

    private func log(_ level: Logger.Level, route: AdminRoute, outcome: String, code: Int, reason: String?, from: String?,
                     principal: String?, detail: String?, extra: Logger.Metadata = [:]) {
        var metadata: Logger.Metadata = [
            "event": code == 401 ? "authorization" : "admin",
            "component": "admin_api",
            "action": .string(route.label),
            "outcome": .string(outcome),
            "http_code": .stringConvertible(code),
        ]
        if let reason { metadata["reason_code"] = .string(reason) }
        if let from { metadata["from"] = .string(from) }
        if let principal { metadata["admin_principal"] = .string(principal) }
        if let detail { metadata["details"] = .string(detail) }
        metadata.merge(extra) { a, _ in a }
        logger.log(level: level, "admin_request", metadata: metadata)
    }

    static func header(_ fields: HTTPFields, _ name: String) -> String? {
        guard let field = HTTPField.Name(name) else { return nil }
        return fields[field]
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var response = Response(status: status, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/plain; charset=utf-8"
        return response
    }
}

/// What a handler answers: status, optional JSON body, and what to log.
struct AdminReply: Sendable {
    var status: HTTPResponse.Status
    var body: JSONValue?
    var outcome: String
    var reasonCode: String?
    var detail: String? = nil
    var logMetadata: Logger.Metadata = [:]
}
