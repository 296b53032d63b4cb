import Foundation
import KernelTestSupport
import Testing
import KernelPostgres

@Suite("COPY (live Postgres)", .serialized)
struct CopyTests {
    @Test("text COPY round trip with escapes, NULLs and unicode")
    func textRoundTrip() throws {
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE t (id int, a text, n numeric, j jsonb)")
            let values: [String?] = [
                "plain", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "", nil,
                "日本語 \u{1F680} é", "quote'\"", String(repeating: "x", count: 100_000),
            ]
            try connection.copyIn("COPY t (id, a, n, j) FROM STDIN") { writer in
                for (index, value) in values.enumerated() {
                    try writer.writeTextRow([String(index), value, index % 2 == 0 ? "-1.50" : nil, "{\"k\": \"\\u00e9\"}"])
                }
            }
            let result = try connection.query("SELECT a, n::text, j->>'k' FROM t ORDER BY id")
            #expect(result.count == values.count)
            for (index, value) in values.enumerated() {
                #expect(result[index, 0] == value, "row \(index)")
                #expect(result[index, 1] == (index % 2 == 0 ? "-1.50" : nil))
                #expect(result[index, 2] == "é")
            }
        }
    }

    @Test("binary COPY round trip of every supported type, NULLs included")
    func binaryRoundTrip() throws {
        try TestDatabase.with { connection, _ in
            try connection.execute("""
                SET TIME ZONE 'UTC';
                CREATE TABLE b (id int4, u uuid, t text, i8 int8, f float8, ok bool, ts timestamptz, n numeric, j jsonb)
                """)
            let floats: [Double] = [0, -0.0, 1.5, -2.25e-300, 1e300, .infinity, -.infinity, .pi]
            try connection.copyIn("COPY b (id, u, t, i8, f, ok, ts, n, j) FROM STDIN (FORMAT binary)") { writer in
                var encoder = PGBinaryCopyEncoder()
                for index in 0..<floats.count {
                    encoder.beginTuple(fieldCount: 9)
                    encoder.appendInt4(Int32(index))
                    try encoder.appendUUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\(index)")
                    encoder.appendText("row \(index) ünïcødé \u{1F4C8}\t\n")
                    encoder.appendInt8(index % 2 == 0 ? Int64.max - Int64(index) : Int64.min + Int64(index))
                    encoder.appendFloat8(floats[index])
                    encoder.appendBool(index % 2 == 0)
                    // 2024-01-02 03:04:05.123456 UTC plus index seconds
                    encoder.appendTimestamptz(unixMicros: 1_704_164_645_123_456 + Int64(index) * 1_000_000)
                    try encoder.appendNumeric(index % 2 == 0 ? "-123.4500" : "0.0000001")
                    encoder.appendJSONB("{\"i\": \(index), \"s\": \"é\"}")
                    try writer.write(&encoder)
                }
                // One all-NULL row.
                encoder.beginTuple(fieldCount: 9)
                for _ in 0..<9 { encoder.appendNull() }
                encoder.finish()
                try writer.write(&encoder)
            }
            let result = try connection.query("SELECT id, u::text, t, i8::text, f::text, ok::text, ts::text, n::text, j::text FROM b ORDER BY id NULLS LAST")
            #expect(result.count == floats.count + 1)
            for index in 0..<floats.count {
                #expect(result[index, 1] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\(index)")
                #expect(result[index, 2] == "row \(index) ünïcødé \u{1F4C8}\t\n")
                #expect(result[index, 3] == String(index % 2 == 0 ? Int64.max - Int64(index) : Int64.min + Int64(index)))
                let parsed = try #require(result[index, 4].flatMap(Double.init))
                #expect(parsed.bitPattern == floats[index].bitPattern, "float \(floats[index])")
                #expect(result[index, 5] == (index % 2 == 0 ? "true" : "false"))
                #expect(result[index, 6] == "2024-01-02 03:04:\(String(format: "%02d", 5 + index)).123456+00")
                #expect(result[index, 7] == (index % 2 == 0 ? "-123.4500" : "0.0000001"))
                #expect(result[index, 8] == "{\"i\": \(index), \"s\": \"é\"}")
            }
            #expect(result.rows.last! == [nil, nil, nil, nil, nil, nil, nil, nil, nil])
        }
    }

    @Test("binary numeric equals Postgres' own parse for edge cases and random values")
    func numericRoundTrip() throws {
        var values = [
            "0", "-0", "0.0", "0.000", "1", "-1", "9999", "10000", "10001", "99999999", "100000000",
            "0.1", "0.01", "0.001", "0.0001", "0.00001", "0.00010", "1.50", "-123.4500",
            "12345678901234567890123456789012345678", "-12345678901234567890123456789012345678",
            "0.12345678901234567890123456789012345678", "1234567890123456789.0123456789012345678",
            "1e-7", "1E-7", "1.5e-7", "-2.5E+10", "1e0", "1e+3", "123.456e2", "123.456e-2", "0e5", "5e-20",
            "0.000000000000000000000000000001", "-0.000000000000000000000000000001",
            "3.14159265358979323846264338327950288419716939937510", "+7", ".5", "5.", "-.25",
            "NaN", "Infinity", "-Infinity", "1e300", "-1e-300",
        ]
        var generator = SplitMix64(seed: 20_240_601)
        for _ in 0..<600 {
            let intDigits = Int(generator.next() % 25)
            let fracDigits = Int(generator.next() % 25)
            var text = generator.next() % 2 == 0 ? "-" : ""
            text += intDigits == 0 ? "0" : String((0..<intDigits).map { _ in Character(String(generator.next() % 10)) })
            if fracDigits > 0 {
                text += "." + String((0..<fracDigits).map { _ in Character(String(generator.next() % 10)) })
            }
            if generator.next() % 4 == 0 {
                text += "e" + String(Int(generator.next() % 41) - 20)
            }
            values.append(text)
        }
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE num (id int, src text, n numeric)")
            try connection.copyIn("COPY num (id, src, n) FROM STDIN (FORMAT binary)") { writer in
                var encoder = PGBinaryCopyEncoder()
                for (index, value) in values.enumerated() {
                    encoder.beginTuple(fieldCount: 3)
                    encoder.appendInt4(Int32(index))
                    encoder.appendText(value)
                    try encoder.appendNumeric(value)
                }
                encoder.finish()
                try writer.write(&encoder)
            }
            let count = try connection.query("SELECT count(*) FROM num").scalar
            #expect(count == String(values.count))
            let mismatches = try connection.query("""
                SELECT src, n::text, src::numeric::text FROM num
                 WHERE n::text IS DISTINCT FROM src::numeric::text OR n IS DISTINCT FROM src::numeric
                """)
            #expect(mismatches.rows.isEmpty, "mismatches: \(mismatches.rows.prefix(10))")
        }
    }

    @Test("COPY errors surface after the data and leave the connection usable")
    func copyErrors() throws {
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE k (id int PRIMARY KEY, v text NOT NULL)")
            let unique = #expect(throws: PGError.self, "expected a unique violation") {
                try connection.copyIn("COPY k FROM STDIN") { writer in
                    try writer.writeTextRow(["1", "a"])
                    try writer.writeTextRow(["1", "b"])
                }
            }
            #expect(unique?.kind == .data)
            #expect(unique?.reasonCode == "pg_unique_violation")
            let badValue = #expect(throws: PGError.self, "expected a bad value") {
                try connection.copyIn("COPY k FROM STDIN") { writer in try writer.writeTextRow(["not-an-int", "a"]) }
            }
            #expect(badValue?.kind == .data)
            #expect(badValue?.sqlState == "22P02")
            let notNull = #expect(throws: PGError.self, "expected a not-null violation") {
                try connection.copyIn("COPY k FROM STDIN (FORMAT binary)") { writer in
                    var encoder = PGBinaryCopyEncoder()
                    encoder.beginTuple(fieldCount: 2)
                    encoder.appendInt4(1)
                    encoder.appendNull()
                    encoder.finish()
                    try writer.write(&encoder)
                }
            }
            #expect(notNull?.reasonCode == "pg_not_null_violation")
            #expect(try connection.query("SELECT count(*) FROM k").scalar == "0")
        }
    }

    @Test("an error thrown by the writer aborts the COPY; nothing is inserted")
    func writerAbort() throws {
        struct Boom: Error {}
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE w (id int)")
            let error = #expect(throws: PGError.self, "expected an abort") {
                try connection.copyIn("COPY w FROM STDIN") { writer in
                    for index in 0..<10_000 { try writer.writeTextRow([String(index)]) }
                    throw Boom()
                }
            }
            #expect(error?.reasonCode == "pg_copy_aborted")
            #expect(try connection.query("SELECT count(*) FROM w").scalar == "0")
            #expect(connection.isConnected)
        }
    }

    @Test("copyIn refuses a statement that is not COPY FROM STDIN")
    func notCopy() throws {
        try TestDatabase.with { connection, _ in
            let error = #expect(throws: PGError.self) { try connection.copyIn("SELECT 1") { _ in } }
            #expect(error?.reasonCode == "pg_not_copy_in")
            let after = try connection.query("SELECT 2").scalar
            #expect(after == "2")
        }
    }
}
