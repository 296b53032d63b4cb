import KernelConfig
import KernelJSON

/// `config`: `KernelConfig.parse(yaml:environment:readFile:)` (the YAML precheck, Yams, every
/// section reader, environment overrides) on mutated YAML text.
///
/// Properties: never crashes; every issue of a refusal names a key path or a position (line,
/// column or character); the values of secrets (`postgres.dsn`, `redis.password`,
/// `auth.private_key`) never appear in an issue about that key, and secrets supplied through the
/// environment (or `*_FILE`) appear nowhere, in issues or in `redactedDescription`; an accepted
/// config's plugin settings are JSON objects and its redacted description shows no secret.
final class ConfigTarget: FuzzTarget {
    let name = "config"
    let seeds: [[UInt8]]
    private let bytes: ByteMutator

    /// Markers: a YAML-borne secret holds `FUZZSECRET` (or, for the base64 issuer key, starts
    /// with `RlVaWlNFQ1JFV`, the base64 of it); environment-borne secrets hold `ENVSECRET`.
    static let yamlMarkers = ["FUZZSECRET", "RlVaWlNFQ1JFV"]
    static let envMarker = "ENVSECRET"
    static let secretKeys: Set<String> = ["dsn", "password", "private_key"]

    static let scalars = [
        "", "~", "null", "0", "-1", "1e3", "0x10", "0o17", "+5", "99999999999999999999", "9223372036854775807",
        "9223372036854775808", "-9223372036854775809", "1.5", ".inf", "-.inf", ".nan", "true", "yes", "on", "512MiB",
        "1.5GB", "18446744073709551616TiB", "99999999999TiB", "1KB", "-1KiB", " KiB", "1 MiB", "1mib", "'quoted'",
        "\"dq \\u0000\"", "\"\\xff\"", "\"\\ud800\"", "|\n  block\n  text", ">-\n  folded", "[a, b]", "{a: 1}",
        "!!str 5", "!!int \"5\"", "!!binary aGVsbG8=", "!custom x", "&a x", "*a", "? complex", "- item", "\u{FEFF}x",
        "\t1", ":7600", "[::1]:7600", "host:99999", "a:b:c", "*", "'", "\"", "#", "0:0", "example.com:0", "[::1]",
        "fdc", "fdc:", "debug", "TRACE", "stderr", "/dev/null", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA",
        String(repeating: "A", count: 5000), "\u{7}", "\u{0}", "é", "e\u{301}",
    ]
    static let lines = [
        "&anchor a: 1", "b: *anchor", "<<: {a: 1}", "%YAML 1.1", "%TAG ! tag:example.com,2000:", "---", "...",
        "? [complex, key]\n: value", "- list item", "\tindented: tab", "key with spaces: 1", "\"quoted key\": 1",
        "'single': 1", "dup: 1\ndup: 2", "nested:\n  deeper:\n    deepest: 1", "- - - x", "{flow: mapping}",
        "[flow, sequence]", "unknown_section: {}", "plugins:\n  config:\n    trade: {a: [1, {b: null}], c: 1e400}",
        "auth:\n  public_keys: {k: RlVaWlNFQ1JFVA}", "server:\n  tls: {cert_file: a, key_file: b, client_ca_file: c}",
        "redis:\n  tls: {enabled: true, ca_file: a, cert_file: b, key_file: c, verify: full, server_name: d}",
        "x: " + String(repeating: "[", count: 129) + String(repeating: "]", count: 129),
        "x: " + String(repeating: "{a: ", count: 127) + "1" + String(repeating: "}", count: 127),
        String(repeating: "  ", count: 200) + "deep: 1", "# comment & * <<", "key: value # trailing & *x",
        "key: 'it''s & *not an alias'", "key: \"&not *alias\"", "key: |\n  &literal *text\n", "!!map {a: 1}",
    ]
    static let knownKeys = [
        "server", "listen", "max_message_bytes", "max_event_tags", "max_tag_key_bytes", "max_tag_value_bytes", "tls", "cert_file", "key_file", "client_ca_file", "ca_file", "verify", "server_name", "enabled", "postgres", "dsn", "max_conns",
        "apply_migrations", "migrations_dir", "queue_size", "batch_size", "batch_max_wait_ms", "batch_linger_ms", "write_connections",
        "circuit_breaker_threshold", "circuit_breaker_timeout_seconds", "connect_timeout_ms", "statement_timeout_ms", "redis",
        "addr", "username", "password", "db", "key_prefix", "stream", "consumer_group", "read_count", "read_pause_ms", "block_ms", "dlq_stream",
        "logging", "level", "buffer", "output", "auth", "issuer", "audience", "key_id", "public_keys", "public_keys_ssh",
        "private_key", "private_key_file", "producer_ssh_ca", "producer_principals", "admin_ssh_ca", "admin_principal",
        "admin_allowed_subjects", "skew_seconds", "token_ttl_seconds", "performance", "spill", "dir", "plugins", "config",
        "call_budget_ms", "batch_sise", "Server", "",
    ]

    init(corpusDir: String) throws(FuzzSetupError) {
        let seeds = Files.corpus(corpusDir, suffixes: [".yaml", ".yml"])
        guard !seeds.isEmpty else { throw FuzzSetupError("config: no *.yaml seeds in \(corpusDir) (run from the repository root)") }
        self.seeds = seeds
        bytes = ByteMutator(dictionary: tokens(Self.knownKeys.map { $0 + ":" } + [": ", "- ", "  ", "\n", "&a", "*a", "<<",
                                                                                     "!!", "|", ">", "#", "'", "\"", "{", "[", "?"]),
                            maxLength: 128 * 1024)
    }

    func mutate(_ base: [UInt8], other: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        guard rng.below(3) != 0 else { return bytes.mutate(base, other: other, rng: &rng) }
        var lines = base.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if lines.isEmpty { lines = [[]] }
        for _ in 0..<rng.smallCount(max: 4) {
            let i = rng.below(lines.count)
            switch rng.below(9) {
            case 0: lines.remove(at: i); if lines.isEmpty { lines = [[]] }
            case 1: lines.insert(lines[i], at: rng.below(lines.count + 1))
            case 2: lines.swapAt(i, rng.below(lines.count))
            case 3: // indentation
                if rng.oneIn(2) { lines[i] = rng.pick([[0x20, 0x20], [0x09], [0x20]]) + lines[i] } else {
                    lines[i] = Array(lines[i].drop { $0 == 0x20 }.prefix(Int.max))
                }
            case 4, 5: // the value after "key:"
                if let colon = lines[i].firstIndex(of: 0x3A) {
                    lines[i] = Array(lines[i][...colon]) + [0x20] + Array(rng.pick(Self.scalars).utf8)
                }
            case 6: // the key
                let indent = lines[i].prefix { $0 == 0x20 }
                let rest = lines[i].firstIndex(of: 0x3A).map { Array(lines[i][$0...]) } ?? Array(": 1".utf8)
                lines[i] = Array(indent) + Array(rng.pick(Self.knownKeys).utf8) + rest
            case 7: lines.insert(Array(rng.pick(Self.lines).utf8), at: rng.below(lines.count + 1))
            default: // a line from the other input (cross-section keys)
                let otherLines = other.split(separator: 0x0A).map(Array.init)
                if !otherLines.isEmpty { lines.insert(rng.pick(otherLines), at: rng.below(lines.count + 1)) }
            }
        }
        var out = Array(lines.joined(separator: [0x0A]))
        if rng.oneIn(8) { out = bytes.mutate(out, other: other, rng: &rng) }
        if rng.oneIn(30) { out = [0xEF, 0xBB, 0xBF] + out }
        return out
    }

    /// Environment and secret files derived from the input, so a replay sees the same ones.
    static func environment(for input: [UInt8]) -> [String: String] {
        switch FNV.hash(input) % 7 {
        case 1: return ["KERNEL_PG_DSN": "postgres://u:ENVSECRET-pg@h:5432/db"]
        case 2: return ["KERNEL_REDIS_PASSWORD": "ENVSECRET-redis", "KERNEL_REDIS_ADDR": "127.0.0.1:6379"]
        case 3: return ["KERNEL_AUTH_PRIVATE_KEY": "ENVSECRET not base64 ="]
        case 4: return ["KERNEL_PG_DSN_FILE": "/secret/dsn", "KERNEL_REDIS_PASSWORD_FILE": "/secret/missing"]
        case 5: return ["KERNEL_PG_DSN": "ENVSECRET-both", "KERNEL_PG_DSN_FILE": "/secret/dsn",
                        "KERNEL_AUTH_PRIVATE_KEY": "RU5WU0VDUkVU"]
        case 6: return ["KERNEL_REDIS_PASSWORD_FILE": "/secret/empty", "KERNEL_PG_DSN": ""]
        default: return [:]
        }
    }

    struct MissingFile: Error, CustomStringConvertible {
        let path: String
        var description: String { "no such file (fuzz)" }
    }

    static func readFile(_ path: String) throws -> String {
        switch path {
        case "/secret/dsn": return "postgres://u:ENVSECRET-file@h:5432/db\n"
        case "/secret/empty": return "\n"
        default: throw MissingFile(path: path)
        }
    }

    func run(_ input: [UInt8]) -> Verdict {
        let text = String(decoding: input, as: UTF8.self)
        let env = Self.environment(for: input)
        do {
            let config = try KernelConfig.parse(yaml: text, environment: env, readFile: Self.readFile)
            return checkAccepted(config, text: text)
        } catch {
            for issue in error.issues {
                if let problem = Self.check(issue) { return .fail(problem) }
            }
            let reasons = Set(error.issues.map(\.reason.rawValue)).sorted().joined(separator: ",")
            return .pass(outcome: reasons)
        }
    }

    static func check(_ issue: ConfigError.Issue) -> String? {
        if issue.message.contains(envMarker) || issue.path.contains(envMarker) {
            return "env-secret: an environment secret appears in \(quote(issue.description))"
        }
        let last = issue.path.split(separator: ".").last.map(String.init) ?? ""
        if secretKeys.contains(last), yamlMarkers.contains(where: { issue.message.contains($0) }) {
            return "secret: the value of \(issue.path) appears in its issue \(quote(issue.message))"
        }
        // An empty path with `wrong_type` is about the document root itself (not a mapping, or a
        // non-scalar top-level key): the root is the key it names.
        if issue.path.isEmpty && issue.reason != .wrongType && !mentionsPosition(issue.message) {
            return "position: an issue names neither a key nor a position: \(quote(issue.message))"
        }
        return nil
    }

    /// "line 3", "3:7: …", "character 12".
    static func mentionsPosition(_ message: String) -> Bool {
        let scalars = Array(message.unicodeScalars)
        let digits = { (s: ArraySlice<Unicode.Scalar>) in s.prefix { $0.properties.numericType != nil } }
        if let first = scalars.first, first.properties.numericType != nil {
            let n = digits(scalars[...]).count
            if n < scalars.count, scalars[n] == ":" { return true }
        }
        for word in ["line ", "character "] {
            var search = Substring(message)
            while let range = search.firstRange(of: word) {
                if let next = search[range.upperBound...].unicodeScalars.first, next.properties.numericType != nil { return true }
                search = search[range.upperBound...]
            }
        }
        return false
    }

    private func checkAccepted(_ config: KernelConfig, text: String) -> Verdict {
        let description = config.redactedDescription
        if description.contains(Self.envMarker) { return .fail("env-secret: an environment secret appears in redactedDescription") }
        let secrets = [config.postgres.dsn, config.redis.password, config.auth.privateKey].compactMap { $0 }
        for marker in Self.yamlMarkers where secrets.contains(where: { $0.contains(marker) }) {
            // Only when the marker is in the text once: then no other key can legitimately show it.
            if occurrences(of: marker, in: text) == 1, description.contains(marker) {
                return .fail("secret: a secret value appears in redactedDescription")
            }
        }
        for (plugin, json) in config.plugins.configJSON {
            guard case .object? = try? JSONParser.parse(json, maxDepth: 128) else {
                return .fail("plugin-json: plugins.config.\(plugin) became \(quote(json)), not a JSON object")
            }
        }
        return .pass(outcome: "accepted")
    }
}

/// How often `needle` occurs in `haystack` (non-overlapping), by UTF-8 bytes.
func occurrences(of needle: String, in haystack: String) -> Int {
    let n = Array(needle.utf8), h = Array(haystack.utf8)
    guard !n.isEmpty, h.count >= n.count else { return 0 }
    var count = 0
    var i = 0
    while i + n.count <= h.count {
        if h[i] == n[0], Array(h[i..<(i + n.count)]) == n {
            count += 1
            i += n.count
        } else {
            i += 1
        }
    }
    return count
}
