import Foundation
import Testing

/// `kernel plugins check`, run as a process the way an author runs it.
@Suite("plugins check")
struct PluginsCheckTests {
    @Test func aBareFileNameMeansTheFileInTheCurrentDirectory() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        try TestPluginBuilder.build("libtick.so", in: dir)
        let result = try KernelBinary.run(["plugins", "check", "libtick.so"], in: dir)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("plugin:      tick 1.0.0"), "\(result.output)")
    }

    @Test func timestampsPrintAsRFC3339() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let plugin = try TestPluginBuilder.build("libtick.so", in: dir)
        let sample = dir + "/sample.json"
        // An envelope: the event time the test plugin sets is the envelope's ts minus 1 µs.
        try #"{"event_id":"0190f5c2-7b7e-7000-8000-000000000001","ts":"2026-11-25T14:30:00Z","payload":{"price":"1.5"}}"#
            .write(toFile: sample, atomically: true, encoding: .utf8)
        let result = try KernelBinary.run(["plugins", "check", plugin, "--sample", sample])
        #expect(result.status == 0, "\(result.output)")
        let line = result.output.split(separator: "\n").first { $0.contains("event time:") } ?? ""
        #expect(line.contains("T") && line.contains("Z ("), "event time printed as RFC 3339: \(line)")
    }
}
