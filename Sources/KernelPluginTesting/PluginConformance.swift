import KernelJSON
import KernelPlugins
import KernelRuntime
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The conformance kit plugin authors run from their own tests:
///
/// ```swift
/// let report = PluginConformance.run(plugin: ".build/debug/libMyPlugin.so", fixtures: "Tests/Fixtures/my")
/// #expect(report.failures.isEmpty, "\(report)")
/// ```
///
/// It loads the `.so` through the kernel's own loader (so every load-time rule applies), runs
/// `init`, normalizes each fixture and compares the output, and then feeds hostile variations of
/// every good payload (truncations, byte flips, wrong member types) and checks each answer: a
/// refusal must carry the plugin's own message, a success must be a valid output (1 to
/// `max_rows_per_event` rows, every value fitting its column, every required column set). A
/// crash ends the test process, which fails the test as well.
///
/// Fixtures, per family in `<fixtures>/<family>/` (or directly in `<fixtures>` for one family):
/// - `good-NAME.json`: a payload; `good-NAME.expected.json`: the expected output, either an array
///   of rows (`{"column": "text" | number | bool | null}`) or `{"rows": [...], "tags":
///   [{"key","value"}], "event_time_ns": n}`. Values compare by their Postgres text form, the
///   way `psql` prints the stored row: numeric `1e-5` is `0.00001` (a fixture may write either),
///   booleans `true`/`false` or `t`/`f`, timestamps as Unix nanoseconds or RFC 3339 text (compared
///   at the microseconds Postgres keeps), jsonb by content.
/// - `bad-NAME.json`: a payload the plugin must refuse; `bad-NAME.expected.txt`: a substring of
///   the error message (empty file: any refusal).
public enum PluginConformance {
    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        public let passed: Bool
        public let message: String
        public var description: String { (passed ? "ok   " : "FAIL ") + name + (message.isEmpty ? "" : ": " + message) }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public var checks: [Check] = []
        public var failures: [Check] { checks.filter { !$0.passed } }
        public var description: String { checks.map(\.description).joined(separator: "\n") }
        mutating func add(_ name: String, _ passed: Bool, _ message: String = "") {
            checks.append(Check(name: name, passed: passed, message: message))
        }
    }

    /// Runs every check. `mutationsPerFixture` bounds the hostile variations per good payload.
    public static func run(plugin path: String, fixtures: String? = nil, configJSON: String = "{}",
                           mutationsPerFixture: Int = 300, seed: UInt64 = 0x5EED) -> Report {
        var report = Report()
        let plugin: LoadedPlugin
        do {
            plugin = try PluginLoader.load(path: path)
            report.add("load \(path)", true)
        } catch {
            report.add("load \(path)", false, error.description)
            return report
        }
        let instance: PluginInstance
        do {
            instance = try plugin.instantiate(configJSON: configJSON, logger: Logger(label: "conformance") { _ in SwiftLogNoOpLogHandler() })
            report.add("init", true)
        } catch {
            report.add("init", false, error.description)
            return report
        }
        guard let fixtures else { return report }
        let single = plugin.descriptor.families.count == 1
        for family in plugin.descriptor.families {
            var dir = fixtures + "/" + family.name
            if !isDirectory(dir) {
                guard single else { report.add("fixtures for \(family.name)", false, "no directory \(dir)"); continue }
                dir = fixtures
            }
            let files = listFiles(dir)
            let goods = files.filter { $0.hasPrefix("good-") && $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
            let bads = files.filter { $0.hasPrefix("bad-") && $0.hasSuffix(".json") }
            if goods.isEmpty { report.add("fixtures for \(family.name)", false, "no good-*.json in \(dir)") }
            var rng = SplitMix64(seed: seed)
            for good in goods {
                let base = String(good.dropLast(".json".count))
                guard let payload = readFile(dir + "/" + good) else { report.add(good, false, "unreadable"); continue }
                let result = instance.normalize(event(family, payload))
                switch result {
                case .failure(let f):
                    report.add("\(family.name)/\(good) normalizes", false, f.description)
                case .success(let out):
                    if let expected = readFile(dir + "/" + base + ".expected.json") {
                        let problems = compare(out, expected: expected, family: family)
                        report.add("\(family.name)/\(good) matches expected", problems.isEmpty, problems.joined(separator: "; "))
                    } else {
                        report.add("\(family.name)/\(good) normalizes", true, "(no .expected.json)")
                    }
                }
                let answers = hostile(payload, family: family, instance: instance, count: mutationsPerFixture, rng: &rng)
                report.add("\(family.name)/\(good): \(answers.answered) hostile variations answered, each refusal with a message, each success valid",
                           answers.problems.isEmpty, answers.problems.prefix(3).joined(separator: "; "))
            }
            for bad in bads {
                let base = String(bad.dropLast(".json".count))
                guard let payload = readFile(dir + "/" + bad) else { report.add(bad, false, "unreadable"); continue }
                let want = readFile(dir + "/" + base + ".expected.txt").map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() } ?? ""
                switch instance.normalize(event(family, payload)) {
                case .success:
                    report.add("\(family.name)/\(bad) is refused", false, "plugin accepted it")
                case .failure(let f):
                    let ok = want.isEmpty || f.message.contains(want)
                    report.add("\(family.name)/\(bad) is refused", ok, ok ? f.message : "message \"\(f.message)\" lacks \"\(want)\"")
                }
            }
        }
        return report
    }

    /// Normalizes one payload as `family` (its lowest version); for tests that want the raw output.
    public static func event(_ family: FamilyDescriptor, _ payload: [UInt8], version: UInt32? = nil) -> EventInput {
        EventInput(family: family.name, schemaVersion: version ?? family.versions.lowerBound,
                   eventID: "0190f5c2-7b7e-7000-8000-000000000001", subjectID: "0190f5c2-7b7e-7000-8000-0000000000aa",
                   tsUnixNanos: 1_764_000_000_000_000_000, payload: payload)
    }

    static func compare(_ out: NormalizedEvent, expected: [UInt8], family: FamilyDescriptor) -> [String] {
        guard let value = try? JSONParser.parse(expected) else { return ["expected file is not JSON"] }
        var rows: [JSONValue] = []
        var problems: [String] = []
        if let array = value.arrayValue {
            rows = array
        } else if let object = value.objectValue {
            rows = object["rows"]?.arrayValue ?? []
            // Tags as [{"key","value"}] or as {"key": "value"}.
            var want: [Tag]?
            if let tags = object["tags"]?.arrayValue {
                want = tags.compactMap { t -> Tag? in
                    guard let k = t["key"]?.stringValue, let v = t["value"]?.stringValue else { return nil }
                    return Tag(key: k, value: v)
                }
            } else if let tags = object["tags"]?.objectValue {
                want = tags.members.compactMap { m in m.value.stringValue.map { Tag(key: m.key, value: $0) } }
            }
            if let want, Set(want) != Set(out.tags) { problems.append("tags \(out.tags) != expected \(want)") }
            let timeKey = object["event_time_ns"] ?? object["ts_event_ns"]
            if let t = timeKey {
                let want = t.numberText.flatMap { Int64($0) }
                if t.isNull ? out.eventTimeNanos != nil : want != out.eventTimeNanos {
                    problems.append("event time \(String(describing: out.eventTimeNanos)) != expected \(t)")
                }
            }
        } else {
            return ["expected file must be an array of rows or an object with rows"]
        }
        if rows.count != out.rows.count {
            problems.append("\(out.rows.count) rows, expected \(rows.count)")
            return problems
        }
        for (r, (want, got)) in zip(rows, out.rows).enumerated() {
            guard let wantObject = want.objectValue else { problems.append("row \(r): expected row is not an object"); continue }
            for (c, column) in family.columns.enumerated() {
                guard let pinned = wantObject[column.name] else { continue }   // column not pinned by the fixture
                let expectedText = PostgresTextForm.expected(pinned, type: column.type)
                let actual = PostgresTextForm.of(got[c])
                if actual != expectedText {
                    problems.append("row \(r) column \(column.name): got \(actual ?? "NULL"), expected \(expectedText ?? "NULL")")
                }
            }
        }
        return problems
    }

    /// Feeds variations of a good payload; returns how many were answered and what was wrong
    /// with the answers (a refusal without a message, an invalid success).
    static func hostile(_ payload: [UInt8], family: FamilyDescriptor, instance: PluginInstance, count: Int,
                        rng: inout SplitMix64) -> (answered: Int, problems: [String]) {
        var variants: [[UInt8]] = []
        // Every truncation (bounded), then byte flips, then each top-level member replaced by
        // values of other JSON types.
        let step = max(1, payload.count / max(1, count / 3))
        var cut = 0
        while cut < payload.count { variants.append(Array(payload[0..<cut])); cut += step }
        for _ in 0..<(count / 3) {
            var v = payload
            if !v.isEmpty { v[Int(rng.next() % UInt64(v.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            variants.append(v)
        }
        if let object = (try? JSONParser.parse(payload))?.objectValue {
            let replacements: [JSONValue] = [.null, .bool(true), .number("-1"), .number("1e999"), .string(""),
                                             .string("not a number"), .array([]), .object(JSONObject()),
                                             .string(String(repeating: "9", count: 2000))]
            for i in object.members.indices {
                for r in replacements {
                    var copy = object
                    copy.members[i].value = r
                    variants.append(Array(JSONWriter.serialize(.object(copy)).utf8))
                }
            }
        }
        var answered = 0
        var problems: [String] = []
        for v in variants.prefix(count * 2) {
            answered += 1
            let shown = "variant \(clip(v))"
            switch instance.normalize(event(family, v)) {
            case .failure(let f):
                // The host's placeholder means the plugin returned an error and wrote no message:
                // the DLQ entry would not say what was wrong.
                if f.message.isEmpty || f.message.hasPrefix("plugin reported status") {
                    problems.append("\(shown): refused without a message (\(f.kind.rawValue))")
                }
            case .success(let out):
                if let problem = OutputValidation.problem(out, family: family) {
                    problems.append("\(shown): accepted with an invalid output: \(problem)")
                }
            }
        }
        return (answered, problems)
    }

    /// At most 80 bytes of a variant, for a report.
    static func clip(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(80), as: UTF8.self)
        return bytes.count > 80 ? text + "…" : text
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

func listFiles(_ dir: String) -> [String] {
    guard let d = opendir(dir) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted()
}

func readFile(_ path: String) -> [UInt8]? {
    try? FileDescriptorIO.readFile(path, limit: 64 << 20).get()
}
