import Foundation
import KernelPluginTesting
import KernelPlugins
import Testing

/// The conformance kit judges what it is shown: values by their Postgres text form, and every
/// answer to a hostile variation by its properties.
@Suite("Conformance kit")
struct ConformanceKitTests {
    /// A fixtures folder for the test plugin's family `tick` (built with one family only).
    func fixtures(_ files: [String: String]) throws -> String {
        let dir = try TestPluginBuilder.makeTempDir() + "/fixtures"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    func plugin(_ defines: [String] = []) throws -> String {
        try TestPluginBuilder.build("libtick.so", in: try TestPluginBuilder.makeTempDir(), defines: ["FAMILY_COUNT=1"] + defines)
    }

    @Test func numericValuesCompareAsPostgresPrintsThem() throws {
        let dir = try fixtures([
            "good-small.json": #"{"price":1e-5}"#,
            "good-small.expected.json": #"[{"price":"0.00001","side":"buy","note":null}]"#,
            "good-scaled.json": #"{"price":"1.50e1"}"#,
            "good-scaled.expected.json": #"[{"price":15.0}]"#,
        ])
        let report = PluginConformance.run(plugin: try plugin(), fixtures: dir, mutationsPerFixture: 30)
        #expect(report.failures.isEmpty, "\(report)")
        #expect(report.checks.contains { $0.name.contains("good-small.json matches expected") && $0.passed }, "\(report)")
    }

    @Test func aWrongExpectationStillFails() throws {
        let dir = try fixtures([
            "good-small.json": #"{"price":1e-5}"#,
            "good-small.expected.json": #"[{"price":"0.0001"}]"#,
        ])
        let report = PluginConformance.run(plugin: try plugin(), fixtures: dir, mutationsPerFixture: 30)
        #expect(report.failures.map(\.name) == ["tick/good-small.json matches expected"], "\(report)")
        #expect(report.failures.first?.message.contains("got 0.00001, expected 0.0001") == true, "\(report)")
    }

    @Test func aRefusalWithoutAMessageFailsTheHostileCheck() throws {
        let dir = try fixtures(["good-one.json": #"{"price":"1.5"}"#])
        let good = PluginConformance.run(plugin: try plugin(), fixtures: dir, mutationsPerFixture: 30)
        #expect(good.failures.isEmpty, "\(good)")
        let silent = PluginConformance.run(plugin: try plugin(["SILENT_REFUSAL"]), fixtures: dir, mutationsPerFixture: 30)
        let hostile = silent.failures.first { $0.name.contains("hostile variations") }
        #expect(hostile?.message.contains("refused without a message") == true, "\(silent)")
    }

    @Test(arguments: [
        ("1e-5", "0.00001"), ("1.50e1", "15.0"), ("100e-2", "1.00"), ("-0.000", "0.000"), ("007.50", "7.50"),
        ("1E+3", "1000"), ("-12.5e-1", "-1.25"), ("0e5", "0"), ("187.2500", "187.2500"),
    ])
    func postgresNumericTextForm(input: String, printed: String) {
        #expect(PostgresTextForm.numeric(input) == printed)
    }

    @Test func timestampsPrintAtMicroseconds() {
        #expect(PostgresTextForm.timestamp(1_764_081_000_123_456_789) == "2025-11-25 14:30:00.123456+00")
        #expect(PostgresTextForm.timestamp(1_764_081_000_000_000_000) == "2025-11-25 14:30:00+00")
        #expect(PostgresTextForm.of(.bool(true)) == "t")
    }
}
