import Foundation
import KernelMetrics
import KernelTestSupport
import KernelVersion
import Testing
import Yams

/// The shipped alert rules and Grafana dashboard query only metrics the kernel exposes: the
/// names are parsed out of their PromQL and compared with the families `/metrics` renders.
/// (IngestTests' `OperationsProcessTests` does the same against a running kernel's scrape.)
@Suite("Alert rules and dashboard name only exposed metrics")
struct MonitoringFilesTests {
    static let root = Repository.root.path

    /// Family name → Prometheus type, as `/metrics` announces them.
    static func exposedTypes() throws -> [String: String] {
        try PrometheusText(KernelMetrics().render()).types
    }

    /// Every rule of config/prometheus/alerts.yml.
    static func alertRules() throws -> [[String: Any]] {
        let text = try String(contentsOfFile: root + "/config/prometheus/alerts.yml", encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let groups = try #require(document["groups"] as? [[String: Any]])
        return groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }
    }

    @Test func alertExpressionsNameOnlyExposedMetrics() throws {
        let types = try Self.exposedTypes()
        let rules = try Self.alertRules()
        #expect(rules.count >= 9, "spilling, postgres, DLQ, plugins, parked, lag, no events, restarts, fds")
        var used: Set<String> = []
        for rule in rules {
            let name = rule["alert"] as? String ?? "?"
            let expr = try #require(rule["expr"] as? String, "\(name) has an expr")
            let names = PromQLNames.metrics(in: expr)
            #expect(!names.isEmpty, "\(name): \(expr)")
            for metric in names {
                let family = PromQLNames.family(of: metric, types: types)
                #expect(types[family] != nil, "\(name) queries \(metric), which the kernel does not expose")
                used.insert(family)
            }
            let labels = rule["labels"] as? [String: Any]
            #expect(["critical", "warning"].contains(labels?["severity"] as? String), "\(name) has a severity")
            #expect((rule["annotations"] as? [String: Any])?["summary"] is String, "\(name) has a summary")
        }
        // The situations the operations guide says to alert on.
        for family in ["kernel_pg_circuit_state", "kernel_spill_files", "kernel_dlq_reason_total", "kernel_plugins_quarantined",
                       "kernel_parked_events_total", "kernel_redis_message_lag_seconds", "kernel_redis_read_total",
                       "kernel_spill_damaged_records_total"] {
            #expect(used.contains(family), "no alert on \(family)")
        }
    }

    @Test func dashboardQueriesExposedMetricsForTheChosenInstances() throws {
        let types = try Self.exposedTypes()
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/docs/grafana/kernel.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let variables = ((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]]) ?? []
        let instance = try #require(variables.first { $0["name"] as? String == "instance" }, "an instance variable")
        #expect("\(instance["definition"] ?? "")".contains("kernel_build_info"), "listed from a metric every kernel exposes")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]]) ?? [] }.compactMap { $0["expr"] as? String }
        #expect(expressions.count > 30)
        for expr in expressions {
            let names = PromQLNames.metrics(in: expr)
            #expect(!names.isEmpty, "\(expr)")
            for metric in names {
                #expect(types[PromQLNames.family(of: metric, types: types)] != nil, "\(metric) is not exposed: \(expr)")
            }
            #expect(PromQLNames.selectorsLacking(#"instance=~"$instance""#, in: expr, names: names).isEmpty,
                    "every selector follows the instance variable: \(expr)")
        }
    }

    @Test func theNameExtractorSeesThroughPromQL() {
        let expr = #"histogram_quantile(0.99, sum by (instance, le) (rate(kernel_x_bucket{a="b{c}", le!="1"}[5m] offset 1h))) > 30 "#
            + #"and on (instance) deriv(kernel_y[15m]) > 0 unless kernel_z{q='kernel_not'} or vector(1)"#
        #expect(PromQLNames.metrics(in: expr) == ["kernel_x_bucket", "kernel_y", "kernel_z"])
        #expect(PromQLNames.family(of: "kernel_x_bucket", types: ["kernel_x": "histogram"]) == "kernel_x")
        #expect(PromQLNames.family(of: "kernel_x_count", types: ["kernel_x_count": "counter"]) == "kernel_x_count")
        #expect(PromQLNames.selectorsLacking("i=1", in: "a{i=1} / b", names: ["a", "b"]) == ["b"])
    }

    @Test func buildInfoAndProcessFamiliesAreExposed() throws {
        let parsed = try PrometheusText(KernelMetrics().render())
        #expect(parsed.value("kernel_build_info", ["version": KernelVersion.version, "commit": KernelVersion.commit]) == 1)
        #expect(KernelVersion.version.split(separator: ".").count == 3)
        #expect(parsed.types["process_cpu_seconds_total"] == "counter")
        for gauge in ["process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                      "process_start_time_seconds"] {
            #expect(parsed.types[gauge] == "gauge", "\(gauge)")
            #expect((parsed.value(gauge) ?? 0) > 0, "\(gauge) read from /proc")
        }
        // This test process, read from /proc: it has run and holds files under its limit.
        #expect((parsed.value("process_cpu_seconds_total") ?? -1) >= 0)
        #expect(parsed.value("process_open_fds")! <= parsed.value("process_max_fds")!)
        #expect(parsed.value("process_resident_memory_bytes")! <= parsed.value("process_virtual_memory_bytes")!)
        #expect(parsed.value("process_start_time_seconds")! <= Date().timeIntervalSince1970)
    }
}
