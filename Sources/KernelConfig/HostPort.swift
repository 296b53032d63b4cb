/// A `host:port` network address, as written in the config (`127.0.0.1:6379`, `[::1]:7600`, `:7600`).
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    /// Host name or IP literal without brackets; empty means every interface (listen addresses only).
    public var host: String
    /// TCP port.
    public var port: Int

    /// Creates an address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 literal.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Parses `host:port`. `allowEmptyHost` admits `:7600`; `allowPortZero` admits an ephemeral port.
    /// Returns nil when the text is not a usable address.
    static func parse(_ text: String, allowEmptyHost: Bool, allowPortZero: Bool) -> HostPort? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), port <= 65535, allowPortZero || port > 0
        else { return nil }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return nil }
            host = String(host.dropFirst().dropLast())
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" }) else { return nil }
        } else if host.contains(":") {
            // An IPv6 literal must be bracketed, or the port is ambiguous.
            return nil
        }
        if host.isEmpty && !allowEmptyHost { return nil }
        let allowed = host.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar == "." || scalar == "-" || scalar == "_" || scalar == ":" || scalar == "%")
        }
        guard allowed, host.count <= 253 else { return nil }
        return HostPort(host: host, port: port)
    }
}
