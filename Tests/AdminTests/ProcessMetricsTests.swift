@testable import KernelMetrics
import Testing

@Suite struct ProcessMetricsTests {
    /// proc(5) `stat`: the command name may hold spaces and parentheses; fields count from the last ")".
    @Test func statFieldsAreReadAfterTheCommandName() throws {
        let stat = "4242 (ker nel) (x)) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 12 0 1000 "
            + "734003200 5000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0\n"
        let sample = try #require(ProcessSample.parse(stat: stat, ticksPerSecond: 100, pageSize: 4096, bootTime: 1_700_000_000))
        #expect(sample.cpuSeconds == 3)                         // (250 + 50) ticks
        #expect(sample.startTimeSeconds == 1_700_000_010)       // boot + 1000 ticks
        #expect(sample.virtualBytes == 734_003_200)
        #expect(sample.residentBytes == 5000 * 4096)
        #expect(ProcessSample.parse(stat: "4242 (short) S 1 2", ticksPerSecond: 100, pageSize: 4096, bootTime: 0) == nil)
    }
}
