import Testing
@testable import KernelPluginSDK

@Suite struct PluginInfoTests {
    static let good = PluginInfo(
        name: "trade",
        version: "1.0.0",
        families: [
            FamilySpec(
                name: "trade", versions: 1...1, payloadSchema: #"{"type":"object"}"#,
                columns: [
                    Column("price", .numeric, description: "price"),
                    Column("side", .text, allowedValues: ["buy", "sell"], description: "side"),
                ]
            ),
        ]
    )

    @Test func wellFormedPluginHasNoProblems() {
        #expect(Self.good.problems.isEmpty)
    }

    @Test func reportsEachProblem() {
        var info = Self.good
        info.name = "Trade"
        info.version = "1.0"
        info.families.append(FamilySpec(
            name: "trade", versions: 0...1, payloadSchema: "[1]",
            columns: [
                Column("ts", .timestamptz, description: "x"),
                Column("bad name", .text, description: "x"),
                Column("n", .numeric, allowedValues: ["1"], description: "x"),
                Column("n", .text, allowedValues: [], description: "x"),
            ],
            maxRowsPerEvent: 0
        ))
        let problems = info.problems
        for fragment in [
            "plugin name 'Trade'", "version '1.0'", "family 'trade' declared twice", "versions must start at 1",
            "maxRowsPerEvent", "payloadSchema is not a JSON object", "column 'ts': name is reserved",
            "column 'bad name': name must match", "allowedValues only apply to text", "column 'n': declared twice",
            "allowedValues is empty",
        ] {
            #expect(problems.contains { $0.contains(fragment) }, "missing problem: \(fragment)")
        }
    }

    @Test func reservedNamesAreTheKernelIdentityColumns() {
        #expect(PluginInfo.reservedColumnNames == [
            "event_id", "row_no", "ts", "ts_event", "subject_id", "producer_id", "schema_id", "received_at",
        ])
    }

    @Test func buildInfoNamesTheSwiftToolchain() {
        #expect(BuildInfo.toolchain.hasPrefix("swift-6."))
        #expect(Self.good.buildInfo == BuildInfo.toolchain)
    }

    @Test func descriptorMirrorsTheDescription() throws {
        let d = DescriptorBuilder.build(Self.good).pointee
        #expect(String(cString: try #require(d.name)) == "trade")
        #expect(d.family_count == 1 && d.normalize_batch == nil && d.`init` != nil && d.destroy != nil)
        let f = try #require(d.families).pointee
        #expect(f.column_count == 2 && f.max_rows_per_event == 1 && f.min_version == 1)
        let side = try #require(f.columns)[1]
        let allowed = try #require(side.allowed_values)
        #expect(String(cString: try #require(allowed[0])) == "buy")
        #expect(String(cString: try #require(allowed[1])) == "sell")
        #expect(allowed[2] == nil)
    }
}
