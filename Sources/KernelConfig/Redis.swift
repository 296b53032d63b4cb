extension KernelConfig {
    /// `redis`: the connection, the event stream and its consumer group.
    public struct Redis: Sendable, Equatable {
        /// `redis.addr`: `host:port`. Env `KERNEL_REDIS_ADDR` overrides (dev and test scripts).
        public var addr: HostPort
        /// `redis.username`: ACL user; nil = default user.
        public var username: String?
        /// `redis.password` (secret): env `KERNEL_REDIS_PASSWORD` or `KERNEL_REDIS_PASSWORD_FILE` overrides.
        public var password: String?
        /// `redis.db`: logical database number.
        public var db = 0
        /// `redis.key_prefix` (`P` in docs/protocol.md): prefix of every kernel key and stream, ends with `:`.
        public var keyPrefix: String
        /// `redis.stream`: event stream name, without the prefix.
        public var stream: String
        /// `redis.consumer_group`: group created on every request stream.
        public var consumerGroup = "kernel"
        /// `redis.consumer_name`: this kernel's consumer name in the group. Default `kernel-<hostname>`,
        /// computed at load. A stable name lets a restarted kernel finish its own pending entries;
        /// several kernels on one host need distinct names.
        public var consumerName: String
        /// `redis.read_count`: XREADGROUP COUNT on the event stream.
        public var readCount = 100
        /// `redis.read_pause_ms`: after a read that returned under half of `read_count` entries,
        /// the reader waits this long before the next one, so that at low rates a read brings
        /// several producer sends at once (0 = read again at once).
        public var readPauseMs = 2
        /// `redis.block_ms`: XREADGROUP BLOCK on the event stream.
        public var blockMs = 5000
        /// `redis.dlq_stream`: dead-letter stream name, without the prefix. Default `<stream>:dlq`.
        public var dlqStream: String
        /// `redis.max_deliveries`: entries delivered more often are dead-lettered `poison_message`.
        public var maxDeliveries = 5
        /// `redis.claim_idle_ms`: pending entries idle this long are claimed (XAUTOCLAIM) and reprocessed.
        public var claimIdleMs = 30000
        /// `redis.dial_timeout_ms`: TCP connect timeout.
        public var dialTimeoutMs = 2000
        /// `redis.read_timeout_ms`: reply timeout, added on top of `block_ms` for blocking reads.
        public var readTimeoutMs = 1000
        /// `redis.write_timeout_ms`: command send timeout.
        public var writeTimeoutMs = 1000
        /// `redis.maxlen_approx`: XTRIM MAXLEN ~ after acks; nil = never trim.
        public var maxlenApprox: Int?
        /// `redis.cluster`: `addr` is a seed node of a Redis Cluster; the kernel discovers the slot map
        /// (CLUSTER SLOTS) and follows MOVED/ASK redirections and failovers.
        public var cluster = false
        /// `redis.shards`: the event stream is split into this many streams, `<stream>:{0}` …
        /// `<stream>:{N-1}` (hash tags, so Redis Cluster spreads them over its masters); 1 = the
        /// single stream `<stream>`. Producers pick the shard from the subject id (docs/producers.md).
        public var shards = 1
        /// `redis.read_shards`: the shards this kernel reads; empty = all of them.
        public var readShards: [Int] = []
        /// `redis.dead_consumer_ms`: other consumers of the group idle this long with nothing pending
        /// are removed (XGROUP DELCONSUMER); 0 = never.
        public var deadConsumerMs = 3_600_000
        /// `redis.tls`: TLS on every Redis connection; nil = plain TCP.
        public var tls: TLS?

        /// A redis section with every default and the required values.
        public init(addr: HostPort, keyPrefix: String, stream: String) {
            self.addr = addr
            self.keyPrefix = keyPrefix
            self.stream = stream
            self.dlqStream = stream + ":dlq"
            self.consumerName = Redis.defaultConsumerName()
        }

        /// `kernel-` + the machine's host name.
        public static func defaultConsumerName() -> String {
            "kernel-" + HostName.current()
        }

        /// Full key of the event stream (`key_prefix` + `stream`), e.g. `fdc:events`.
        public var streamKey: String { keyPrefix + stream }
        /// Full key of the dead-letter stream, e.g. `fdc:events:dlq`.
        public var dlqStreamKey: String { keyPrefix + dlqStream }

        /// Full key of event-stream shard `index`: `fdc:events` when there is one shard, else
        /// `fdc:events:{index}` (the braces are a Redis Cluster hash tag).
        public func shardStreamKey(_ index: Int) -> String {
            shards == 1 ? streamKey : streamKey + ":{\(index)}"
        }

        /// The shards this kernel reads, in order.
        public var assignedShards: [Int] { readShards.isEmpty ? Array(0..<shards) : readShards }

        static let keys = [
            "addr", "username", "password", "db", "key_prefix", "stream", "consumer_group", "consumer_name", "read_count", "read_pause_ms",
            "block_ms", "dlq_stream", "max_deliveries", "claim_idle_ms", "dial_timeout_ms",
            "read_timeout_ms", "write_timeout_ms", "maxlen_approx", "cluster", "shards", "read_shards",
            "dead_consumer_ms", "tls",
        ]

        init(_ reader: MappingReader, overrides: EnvironmentOverrides, origins: inout [String: String]) {
            addr = Redis.readAddr(reader, overrides: overrides, origins: &origins)
            username = reader.unsetIfEmpty("username")
            let passwordPath = reader.child("password")
            password = reader.unsetIfEmpty("password", secret: true)
            if let override = overrides.value("KERNEL_REDIS_PASSWORD", allowFile: true, path: passwordPath) {
                password = override.value
                origins[passwordPath] = override.origin
            }
            db = reader.int("db", default: db, min: 0, max: 65535)
            keyPrefix = reader.requiredString("key_prefix")
            if !keyPrefix.isEmpty, !keyPrefix.hasSuffix(":") {
                reader.log.add(reader.child("key_prefix"),
                               "must end with \":\" (e.g. \"fdc:\"), got \(ValueDisplay.quote(keyPrefix))", .invalidValue)
            }
            stream = reader.requiredString("stream")
            consumerGroup = reader.string("consumer_group", default: consumerGroup)
            consumerName = reader.optionalString("consumer_name") ?? Redis.defaultConsumerName()
            readCount = reader.int("read_count", default: readCount, min: 1, max: 100_000)
            readPauseMs = reader.int("read_pause_ms", default: readPauseMs, min: 0, max: 1000)
            // BLOCK 0 means "forever" to Redis, which would make the reader deaf to shutdown.
            blockMs = reader.int("block_ms", default: blockMs, min: 1)
            dlqStream = reader.string("dlq_stream", default: stream + ":dlq")
            if !stream.isEmpty, dlqStream == stream {
                reader.log.add(reader.child("dlq_stream"), "must differ from redis.stream", .conflict)
            }
            maxDeliveries = reader.int("max_deliveries", default: maxDeliveries, min: 1)
            claimIdleMs = reader.int("claim_idle_ms", default: claimIdleMs, min: 0)
            dialTimeoutMs = reader.int("dial_timeout_ms", default: dialTimeoutMs, min: 1)
            readTimeoutMs = reader.int("read_timeout_ms", default: readTimeoutMs, min: 1)
            writeTimeoutMs = reader.int("write_timeout_ms", default: writeTimeoutMs, min: 1)
            maxlenApprox = reader.optionalInt("maxlen_approx", min: 1, max: Int(Int64(1) << 53))
            cluster = reader.bool("cluster", default: cluster)
            if cluster, db != 0 {
                reader.log.add(reader.child("db"), "must be 0 with redis.cluster: true (a Redis Cluster has one database), got \(db)",
                               .conflict)
            }
            shards = reader.int("shards", default: shards, min: 1, max: 1024)
            readShards = reader.intList("read_shards", min: 0, max: shards - 1)
            deadConsumerMs = reader.int("dead_consumer_ms", default: deadConsumerMs, min: 0)
            tls = TLS.read(reader)
        }

        private static func readAddr(_ reader: MappingReader, overrides: EnvironmentOverrides,
                                     origins: inout [String: String]) -> HostPort {
            let path = reader.child("addr")
            var text = reader.unsetIfEmpty("addr")
            var origin = ""
            if let override = overrides.value("KERNEL_REDIS_ADDR", allowFile: false, path: path) {
                text = override.value
                origin = " (from KERNEL_REDIS_ADDR)"
                origins[path] = override.origin
            }
            guard let text else {
                if !reader.holdsCollection("addr") {
                    reader.log.add(path, "required (host:port, e.g. \"127.0.0.1:6379\")", .missingKey)
                }
                return HostPort(host: "", port: 0)
            }
            guard let address = HostPort.parse(text, allowEmptyHost: false, allowPortZero: false) else {
                reader.log.add(path, "expected host:port (e.g. \"127.0.0.1:6379\")\(origin), got "
                               + ValueDisplay.quote(text), .invalidValue)
                return HostPort(host: "", port: 0)
            }
            return address
        }
    }
}
