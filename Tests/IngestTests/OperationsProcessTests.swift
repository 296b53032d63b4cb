import Foundation
import KernelRedis
import KernelTestSupport
import KernelVersion
import Testing
import Yams
#if canImport(Glibc)
import Glibc
#endif

/// What an operator and a service manager see of the `kernel` binary: its version, the config
/// check and its exit status, the systemd notifications, `/metrics` of a running kernel, and a
/// clean stop. Real processes, real Redis and Postgres.
@Suite("Operations: version, config check, systemd, metrics, clean stop", .serialized)
struct OperationsProcessTests {
    struct Outcome { var status: Int32; var stdout: String; var stderr: String }

    /// Runs the kernel binary to completion with `arguments`.
    static func kernel(_ arguments: [String]) throws -> Outcome {
        try run(IngestHarness.kernelBinary, arguments)
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A config that parses, naming services nobody runs: `config check` must not connect.
    static let unreachableConfig = """
        postgres:
          dsn: "postgres://kernel@127.0.0.1:1/kernel?sslmode=disable"
        redis:
          addr: "127.0.0.1:1"
          key_prefix: "ops:"
          stream: events
        auth:
          issuer: iss
          audience: aud
          key_id: k1
          producer_ssh_ca: none

        """

    static func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dk-ops-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func versionNamesTheReleaseAndTheCommit() throws {
        let outcome = try Self.kernel(["--version"])
        #expect(outcome.status == 0)
        // The first line; the second names the toolchain Swift plugins must be built with.
        #expect(outcome.stdout.hasPrefix("kernel \(KernelVersion.version) (commit \(KernelVersion.commit))\n"), "\(outcome.stdout)")
        let parts = KernelVersion.version.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "semantic version")
        let commit = KernelVersion.commit
        let hex = commit.hasSuffix("-dirty") ? String(commit.dropLast(6)) : commit
        #expect(commit == "unknown" || (hex.count == 12 && hex.allSatisfy(\.isHexDigit)), "\(commit)")
    }

    @Test func configCheckPassesAGoodFileWithoutConnecting() throws {
        let path = try Self.temporaryFile(Self.unreachableConfig)
        defer { unlink(path) }
        let outcome = try Self.kernel(["config", "check", "--config", path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("ok"))
    }

    /// Every problem at once, and 78 (EX_CONFIG) from both `config check` and `run`, which the
    /// shipped unit keeps from restarting.
    @Test func aBadConfigIsReportedWholeAndExits78() throws {
        let bad = Self.unreachableConfig.replacingOccurrences(of: "postgres:\n", with: "postgres:\n  batch_sise: 10\n")
            + "server:\n  listen: \":7600\"\nspill:\n  max_bytes: lots\n"
        let path = try Self.temporaryFile(bad)
        defer { unlink(path) }
        for arguments in [["config", "check", "--config", path], ["run", "--config", path], ["--config", path]] {
            let outcome = try Self.kernel(arguments)
            #expect(outcome.status == 78, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains("postgres.batch_sise"), "\(arguments)")
            #expect(outcome.stderr.contains("did you mean batch_size?"), "\(arguments)")
            #expect(outcome.stderr.contains("spill.max_bytes"), "\(arguments)")
            #expect(outcome.stderr.contains("server.listen") && outcome.stderr.contains("server.admin_allow_plaintext: true"),
                    "\(arguments)")
        }
        let unit = try String(contentsOfFile: IngestHarness.repoRoot + "/config/systemd/data-kernel.service", encoding: .utf8)
        #expect(unit.split(separator: "\n").contains("RestartPreventExitStatus=78"))
        #expect(unit.split(separator: "\n").contains("Restart=on-failure"))
    }

    /// `redis.tls` in a build whose hiredis has no TLS: `config check` and `run` exit 78 naming
    /// the key and why (docs/infrastructure.md, "Redis over TLS"); in a build with TLS the file
    /// passes the check.
    @Test func redisTLSIsRefusedByABuildWithoutIt() throws {
        let text = Self.unreachableConfig.replacingOccurrences(of: "  stream: events\n",
                                                               with: "  stream: events\n  tls:\n    ca_file: /etc/dk/redis-ca.pem\n")
        let path = try Self.temporaryFile(text)
        defer { unlink(path) }
        guard !RedisTLSSupport.available else {
            let outcome = try Self.kernel(["config", "check", "--config", path])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            return
        }
        for arguments in [["config", "check", "--config", path], ["run", "--config", path]] {
            let outcome = try Self.kernel(arguments)
            #expect(outcome.status == 78, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains("redis.tls: this kernel was built against hiredis \(RedisTLSSupport.hiredisVersion)"),
                    "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains("DK_HIREDIS_SSL=1"), "\(arguments): \(outcome.stderr)")
        }
        // Switched off, the section is accepted by the same build.
        let off = text.replacingOccurrences(of: "  tls:\n", with: "  tls:\n    enabled: false\n")
        let offPath = try Self.temporaryFile(off)
        defer { unlink(offPath) }
        #expect(try Self.kernel(["config", "check", "--config", offPath]).status == 0)
    }

    /// A kernel under a service manager: READY=1 once it serves, WATCHDOG=1 while it runs,
    /// STOPPING=1 on SIGTERM, exit 0, and not one error line in its log for a clean run.
    @Test("systemd notifications over a path or an abstract socket", arguments: ["path", "abstract"])
    func notifiesSystemdAndStopsCleanly(kind: String) throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        // A usable producer CA: the harness's default ("none") is itself logged as an error.
        try h.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "producer-ca", "-f", h.dir + "/producer_ca"])
        h.producerSSHCA = h.dir + "/producer_ca.pub"
        let address = kind == "path" ? h.dir + "/notify.sock" : "@dk-notify-\(UUID().uuidString.prefix(12))"
        let socket = try NotifySocket(address: address)
        // Half of 0.4 s: a ping every 200 ms.
        let p = try h.startProcess(yaml: h.yaml(), extraEnvironment: ["NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"])
        defer { if p.isRunning { p.terminate(); p.waitUntilExit() } }

        let untilReady = try #require(socket.receive(until: "READY=1"), "READY=1 never came")
        #expect(untilReady.count == 1, "nothing before READY=1: \(untilReady)")
        // The log is written by its own thread: the line may reach the file just after READY=1.
        #expect(h.waitUntil(timeout: 10) { h.logLines().contains { $0.contains("\"msg\":\"kernel ready\"") } },
                "ready is sent after the kernel says so")
        #expect(socket.receive(until: "WATCHDOG=1") != nil, "the watchdog pings")

        try checkMetrics(of: h)

        p.terminate()   // SIGTERM
        let untilStopping = try #require(socket.receive(until: "STOPPING=1"), "STOPPING=1 never came")
        #expect(untilStopping.allSatisfy { !$0.contains("READY=1") })
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
        let lines = h.logLines()
        #expect(lines.contains { $0.contains("\"msg\":\"kernel stopped\"") })
        let errors = lines.filter { $0.contains("\"level\":\"error\"") }
        #expect(errors.isEmpty, "a clean run logs nothing at error level: \(errors)")
    }

    /// `/metrics` of the running kernel: which build runs, the process families, and every
    /// metric the shipped alert rules query.
    func checkMetrics(of h: IngestHarness) throws {
        _ = h.waitUntil(timeout: 10) { h.logLines().contains { $0.contains("\"msg\":\"admin api listening\"") } }
        let listening = try #require(h.logLines().first { $0.contains("\"msg\":\"admin api listening\"") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listening.utf8)) as? [String: Any])
        let port = try #require((object["fields"] as? [String: Any])?["port"] as? String)
        let scrape = try Self.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/metrics"])
        #expect(scrape.status == 0)
        let text = scrape.stdout
        var types: [String: String] = [:]
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                types[String(parts[2])] = String(parts[3])
            } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " ") {
                values[String(line[..<space])] = Double(line[line.index(after: space)...])
            }
        }
        let buildInfo = "kernel_build_info{version=\"\(KernelVersion.version)\",commit=\"\(KernelVersion.commit)\"}"
        #expect(values[buildInfo] == 1, "\(values.keys.filter { $0.hasPrefix("kernel_build_info") })")
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                     "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
            let value = values[name] ?? 0
            #expect(value > 0, "\(name) = \(value) (0: absent)")
        }
        #expect(values["process_start_time_seconds"]! <= Date().timeIntervalSince1970)
        #expect(types["kernel_producer_events_total"] == nil && types["kernel_subject_events_total"] == nil,
                "no per-producer or per-subject series")
        #expect(!text.contains("producer_id=") && !text.contains("subject_id="))

        let alerts = try String(contentsOfFile: IngestHarness.repoRoot + "/config/prometheus/alerts.yml", encoding: .utf8)
        let groups = try #require((try Yams.load(yaml: alerts) as? [String: Any])?["groups"] as? [[String: Any]])
        let expressions = groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }.compactMap { $0["expr"] as? String }
        #expect(!expressions.isEmpty)
        for expr in expressions {
            for metric in PromQLNames.metrics(in: expr) {
                #expect(types[PromQLNames.family(of: metric, types: types)] != nil, "alert queries \(metric), not scraped: \(expr)")
            }
        }
    }

    /// The shipped unit passes systemd's own checks (with ExecStart pointed at the built binary,
    /// since the installed path does not exist here).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
                   "systemd-analyze is not installed: the unit file is not verified"))
    func shippedUnitVerifies() throws {
        let unit = try String(contentsOfFile: IngestHarness.repoRoot + "/config/systemd/data-kernel.service", encoding: .utf8)
        for line in ["Type=notify", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes",
                     "StateDirectory=datakernel", "ReadWritePaths=/var/lib/datakernel"] {
            #expect(unit.split(separator: "\n").contains(Substring(line)), "\(line)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-unit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/data-kernel.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/kernel", with: IngestHarness.kernelBinary)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = try Self.run("/usr/bin/systemd-analyze", ["verify", path])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(!outcome.stderr.contains("data-kernel.service:"), "no warning about the unit: \(outcome.stderr)")
    }
}
