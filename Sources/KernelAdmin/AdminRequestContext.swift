import Hummingbird
import NIOCore
import NIOSSL

/// Hummingbird request context that keeps the connection's channel: the admin checks need the
/// peer address (`source-address`) and the TLS client certificate.
struct AdminRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The peer's IP address as text.
    var peerAddress: String? { channel.remoteAddress?.ipAddress }

    /// Names of the verified TLS client certificate (common name, then DNS SANs); nil when the
    /// client presented none (or the connection is not TLS).
    func clientCertificateNames() async -> [String]? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        var names: [String] = []
        // NIOSSL exposes the common name only through its description.
        for part in certificate.description.split(separator: ";") where part.hasPrefix("common_name=") {
            names.append(String(part.dropFirst("common_name=".count).prefix { $0 != ">" }))
        }
        for name in certificate._subjectAlternativeNames() where name.nameType == .dnsName {
            names.append(String(decoding: Array(name.contents), as: UTF8.self))
        }
        return names
    }
}
