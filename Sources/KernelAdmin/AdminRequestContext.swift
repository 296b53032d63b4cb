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
        // NIOSSL exposes the common name only through its description, `<…;common_name=CN;
        // alternative_names=…>`. A CN may itself contain ";common_name=": only the part before the
        // SAN list counts, and anything ambiguous yields no CN at all (the SANs below are structured).
        let description = certificate.description
        let head = description.firstRange(of: ";alternative_names=").map { description[..<$0.lowerBound] } ?? description[...]
        let parts = head.split(separator: ";").filter { $0.hasPrefix("common_name=") }
        if parts.count == 1 {
            let cn = parts[0].dropFirst("common_name=".count)
            let value = cn.hasSuffix(">") ? cn.dropLast() : cn
            if !value.contains(";") && !value.contains(">") && !value.contains("=") { names.append(String(value)) }
        }
        for name in certificate._subjectAlternativeNames() where name.nameType == .dnsName {
            names.append(String(decoding: Array(name.contents), as: UTF8.self))
        }
        return names
    }
}
