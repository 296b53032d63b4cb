extension KernelConfig {
    /// `server`: the admin/metrics HTTP listener and per-message limits.
    public struct Server: Sendable, Equatable {
        /// `server.listen`: address of the admin API, `/metrics`, `/healthz`, `/readyz`. Default
        /// `127.0.0.1:7600`: beyond loopback it needs `tls`, or `admin_allow_plaintext`.
        public var listen = HostPort(host: "127.0.0.1", port: 7600)
        /// `server.admin_allow_plaintext`: lets the listener take a non-loopback address without
        /// `tls` (a network the operator trusts, or TLS terminated in front of the kernel).
        public var adminAllowPlaintext = false
        /// `server.max_message_bytes`: larger event payloads are dead-lettered `message_too_large`.
        public var maxMessageBytes = 1_048_576
        /// `server.max_event_tags`: usable `tags` items an event may carry (0…1024); more is
        /// `bad_event_json` (`too_many_tags`). Bounds the `event_tags` rows and new dictionary
        /// tags one event can add (docs/producers.md, "Limits").
        public var maxEventTags = 32
        /// `server.max_tag_key_bytes`: decoded bytes of an envelope tag key (1…1024); default the
        /// plugin `add_tag` limit.
        public var maxTagKeyBytes = 256
        /// `server.max_tag_value_bytes`: decoded bytes of an envelope tag value (1…1024); default
        /// the plugin `add_tag` limit.
        public var maxTagValueBytes = 256
        /// `server.max_tags_per_producer`: entries one producer may add to the global tag
        /// dictionary (`tags`); an event that would add more is dead-lettered
        /// `tag_budget_exceeded` (docs/producers.md, "Limits"). Tags are for low-cardinality
        /// labels (venue, source), never ids.
        public var maxTagsPerProducer = 100_000
        /// `server.tls`: when set, HTTPS with client certificates required; nil means plain HTTP.
        public var tls: TLS?
        /// `server.deployment`: `production` (default) or `development`. Only a development
        /// deployment enables `kernel dev …` shortcuts, which skip the certificate flow.
        public var deployment = Deployment.production

        /// What the deployment is for.
        public enum Deployment: String, Sendable, Equatable {
            case production, development
        }

        /// A server section with every default.
        public init() {}

        static let keys = ["listen", "max_message_bytes", "max_event_tags", "max_tag_key_bytes", "max_tag_value_bytes", "max_tags_per_producer", "tls",
                           "deployment", "admin_allow_plaintext"]

        /// Upper bound of the tag byte limits: key and value together must fit one entry of the
        /// `tags (key, value)` unique index (a B-tree entry holds at most about 2700 bytes).
        public static let maxTagBytesLimit = 1024

        init(_ reader: MappingReader) {
            if let text = reader.optionalString("listen") {
                if let address = HostPort.parse(text, allowEmptyHost: true, allowPortZero: true) {
                    listen = address
                } else {
                    reader.log.add(reader.child("listen"),
                                   "expected host:port (e.g. \":7600\", \"127.0.0.1:7600\", \"[::1]:7600\"), got "
                                   + ValueDisplay.quote(text), .invalidValue)
                }
            }
            maxMessageBytes = reader.size("max_message_bytes", default: maxMessageBytes, min: 1)
            maxEventTags = reader.int("max_event_tags", default: maxEventTags, min: 0, max: 1024)
            maxTagsPerProducer = reader.int("max_tags_per_producer", default: maxTagsPerProducer, min: 1)
            maxTagKeyBytes = reader.int("max_tag_key_bytes", default: maxTagKeyBytes, min: 1, max: Self.maxTagBytesLimit)
            maxTagValueBytes = reader.int("max_tag_value_bytes", default: maxTagValueBytes, min: 1, max: Self.maxTagBytesLimit)
            tls = TLS.read(reader.section("tls", known: TLS.keys))
            if let text = reader.optionalString("deployment") {
                if let value = Deployment(rawValue: text) {
                    deployment = value
                } else {
                    reader.log.add(reader.child("deployment"), "expected production or development, got " + ValueDisplay.quote(text),
                                   .invalidValue)
                }
            }
            adminAllowPlaintext = reader.bool("admin_allow_plaintext", default: adminAllowPlaintext)
            // Admin requests are signed, but over plain HTTP anyone on the path reads producer
            // names, fingerprints and token ids, and /metrics: refuse that unless asked for.
            if tls == nil, !listen.isLoopback, !adminAllowPlaintext {
                reader.log.add(reader.child("listen"),
                               "\(ValueDisplay.quote(listen.description)) is reachable beyond this machine and server.tls is not set: "
                               + "set server.tls, listen on loopback (127.0.0.1), or set server.admin_allow_plaintext: true",
                               .invalidValue)
            }
        }
    }

    /// `server.tls`: all three files, or none.
    public struct TLS: Sendable, Equatable {
        /// `server.tls.cert_file`: PEM server certificate (chain).
        public var certFile: String
        /// `server.tls.key_file`: PEM private key of the server certificate.
        public var keyFile: String
        /// `server.tls.client_ca_file`: PEM CA bundle that client certificates must chain to.
        public var clientCAFile: String

        /// A TLS section naming its three files.
        public init(certFile: String, keyFile: String, clientCAFile: String) {
            self.certFile = certFile
            self.keyFile = keyFile
            self.clientCAFile = clientCAFile
        }

        static let keys = ["cert_file", "key_file", "client_ca_file"]

        /// Nil when no file is set; reports the missing ones when only some are.
        static func read(_ reader: MappingReader) -> TLS? {
            let values = keys.map { reader.unsetIfEmpty($0) }
            let missing = zip(keys, values).filter { $0.1 == nil }.map(\.0)
            if missing.count == keys.count { return nil }
            guard missing.isEmpty, let cert = values[0], let key = values[1], let ca = values[2] else {
                for key in missing {
                    reader.log.add(reader.child(key), "required when any server.tls file is set "
                                   + "(TLS needs cert_file, key_file and client_ca_file together)", .missingKey)
                }
                return nil
            }
            return TLS(certFile: cert, keyFile: key, clientCAFile: ca)
        }
    }
}
