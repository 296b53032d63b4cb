extension KernelConfig.Redis {
    /// `redis.tls`: TLS to Redis (docs/infrastructure.md, "Redis over TLS"). Present (and not
    /// `enabled: false`) means every connection, cluster nodes included, speaks TLS; absent means
    /// plain TCP.
    public struct TLS: Sendable, Equatable {
        /// `redis.tls.verify`: what the server's certificate is checked for.
        public enum Verify: String, Sendable, Equatable, CaseIterable {
            /// The chain leads to a trusted CA and the certificate names the server (`server_name`,
            /// or the host of the address connected to), as libpq's `sslmode=verify-full`.
            case full
            /// The chain leads to a trusted CA; any name is accepted (`sslmode=verify-ca`): for
            /// servers reached by addresses their certificates do not carry.
            case ca
        }

        /// `redis.tls.ca_file`: PEM bundle of the CAs the server's certificate must chain to; nil
        /// = the system's trust store.
        public var caFile: String?
        /// `redis.tls.cert_file`: PEM client certificate (chain), for a Redis that requires one
        /// (`tls-auth-clients yes`); with `key_file`.
        public var certFile: String?
        /// `redis.tls.key_file`: PEM private key of `cert_file`.
        public var keyFile: String?
        /// `redis.tls.verify`: `full` (default) or `ca`.
        public var verify: Verify = .full
        /// `redis.tls.server_name`: the name the certificate must carry and the SNI sent; nil =
        /// the host of each address connected to (the seed and every cluster node).
        public var serverName: String?

        /// TLS with the system's CAs, full verification and no client certificate.
        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, verify: Verify = .full,
                    serverName: String? = nil) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.verify = verify
            self.serverName = serverName
        }

        static let keys = ["enabled", "ca_file", "cert_file", "key_file", "verify", "server_name"]

        /// Nil when the section is absent, or says `enabled: false`.
        static func read(_ parent: MappingReader) -> TLS? {
            guard parent.node("tls") != nil else { return nil }
            let reader = parent.section("tls", known: keys)
            let enabled = reader.bool("enabled", default: true)
            var tls = TLS()
            tls.caFile = reader.optionalString("ca_file")
            tls.certFile = reader.optionalString("cert_file")
            tls.keyFile = reader.optionalString("key_file")
            tls.verify = Verify(rawValue: reader.choice("verify", default: Verify.full.rawValue,
                                                        allowed: Verify.allCases.map(\.rawValue))) ?? .full
            tls.serverName = reader.optionalString("server_name")
            if let name = tls.serverName, !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                reader.log.add(reader.child("server_name"),
                               "expected a host name or IP address (printable ASCII, no spaces), got \(ValueDisplay.quote(name))",
                               .invalidValue)
            }
            if (tls.certFile == nil) != (tls.keyFile == nil) {
                let missing = tls.certFile == nil ? "cert_file" : "key_file"
                reader.log.add(reader.child(missing), "required when redis.tls."
                               + (missing == "cert_file" ? "key_file" : "cert_file")
                               + " is set (a client certificate needs both files)", .missingKey)
            }
            return enabled ? tls : nil
        }
    }
}
