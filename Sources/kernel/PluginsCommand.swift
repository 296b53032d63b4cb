import ArgumentParser
import KernelConfig
import KernelCore
import KernelEvents
import KernelJSON
import KernelPlugins
import Logging

#if canImport(Glibc)
import Glibc
#endif

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "Inspect normalizer plugins.",
        subcommands: [List.self, Check.self, New.self]
    )

    /// `kernel plugins list --config F`: what loads from the configured directory.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the plugins that load from plugins.dir and the families they serve.")
        @OptionGroup var options: ConfigOption

        func run() throws {
            let config = try loadConfigOrExit(options.config)
            let logger = quietLogger()
            let registry = PluginRegistry.load(directory: config.plugins.dir, logger: logger,
                                               configJSON: { config.pluginConfigJSON(for: $0) })
            PluginsCommand.printRunningKernel(directory: config.plugins.dir)
            print("kernel \(HostToolchain.line)")
            print("plugins directory: \(config.plugins.dir)")
            if registry.entries.isEmpty && registry.refused.isEmpty && registry.superseded.isEmpty {
                print("  (no *.so files)")
            }
            for entry in registry.entries {
                let d = entry.descriptor
                print("loaded   \(d.name) \(d.version)  \(entry.path)  [abi 1.\(d.abiMinor), \(d.buildInfo)]")
            }
            for old in registry.superseded {
                print("retired  \(old.plugin.name) \(old.plugin.version)  \(old.path)  (superseded by \(old.by))")
            }
            for error in registry.refused {
                print("refused  \(error.path): \(error.reasonCode): \(error.detail)")
            }
            print("")
            print("families served:")
            for served in registry.servedFamilies {
                let f = served.family
                let storage = f.isTyped ? "typed table \(f.tableName) (\(f.columns.count) columns)" : "generic JSON (normalized)"
                print("  \(f.name) v\(f.versions.lowerBound)-\(f.versions.upperBound)  by \(served.plugin.name) \(served.plugin.version)  → \(storage)")
            }
            print("every other family is stored as generic JSON in the `events` table")
            if !registry.refused.isEmpty { throw ExitCode(1) }
        }
    }

    /// What a kernel running on this directory serves now: active versions (and quarantines),
    /// retired versions (upgraded or removed while it ran) and files it refused. Read from the
    /// status file the kernel keeps in `plugins.dir`; nothing is printed when no kernel runs.
    static func printRunningKernel(directory: String) {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + pluginStatusFileName
        guard let bytes = readWholeFile(path), let status = try? JSONParser.parse(bytes),
              let pid = status["pid"]?.numberText.flatMap({ Int32($0) }), pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return }
        print("running kernel (pid \(pid), status of \(status["updated_at"]?.numberText ?? "?")):")
        for a in status["active"]?.arrayValue ?? [] {
            let families = (a["families"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            let state = a["quarantined"]?.stringValue.map { "QUARANTINED (\($0))" } ?? "active"
            print("  \(state)  \(a["name"]?.stringValue ?? "?") \(a["version"]?.stringValue ?? "?")  \(a["path"]?.stringValue ?? "?")  families \(families)")
        }
        for r in status["retired"]?.arrayValue ?? [] {
            let by = r["replaced_by"]?.stringValue.map { " by \($0)" } ?? ""
            print("  retired  \(r["name"]?.stringValue ?? "?") \(r["version"]?.stringValue ?? "?")  \(r["path"]?.stringValue ?? "?")  (\(r["reason"]?.stringValue ?? "?")\(by))")
        }
        for r in status["refused"]?.arrayValue ?? [] {
            print("  refused  \(r["path"]?.stringValue ?? "?"): \(r["reason_code"]?.stringValue ?? "?"): \(r["detail"]?.stringValue ?? "")")
        }
        print("")
    }

    /// `kernel plugins check FILE.so [--sample payload.json]`: validate one file in isolation.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate one plugin file, print its descriptor, optionally normalize a sample.")
        @Argument(help: "The plugin shared object (.so).") var file: String
        @Option(help: "A JSON file: an event payload, or a whole event envelope with a `payload` member.") var sample: String?
        @Option(help: "Family to normalize the sample as (default: the plugin's first family).") var family: String?
        @Option(help: "Schema version to normalize the sample as (default: the family's lowest).") var schemaVersion: UInt32?
        @Option(help: "Plugin configuration as a JSON object, passed to init.") var pluginConfig: String = "{}"

        func run() throws {
            let plugin: LoadedPlugin
            do { plugin = try PluginLoader.load(path: file) } catch {
                printError("FAIL \(error.description)")
                throw ExitCode(1)
            }
            printDescriptor(plugin)
            let instance: PluginInstance
            do { instance = try plugin.instantiate(configJSON: pluginConfig, logger: quietLogger()) } catch {
                printError("FAIL \(error.description)")
                throw ExitCode(1)
            }
            guard let sample else {
                print("OK   \(plugin.path) is a valid plugin (init succeeded)")
                return
            }
            let d = plugin.descriptor
            let familyName = family ?? d.families[0].name
            guard let fam = d.families.first(where: { $0.name == familyName }) else {
                printError("FAIL plugin \(d.name) does not serve family \(familyName)")
                throw ExitCode(1)
            }
            let input: EventInput
            do { input = try sampleEvent(path: sample, family: fam, version: schemaVersion ?? fam.versions.lowerBound) } catch {
                printError("FAIL sample \(sample): \(error)")
                throw ExitCode(1)
            }
            switch instance.normalize(input) {
            case .failure(let failure):
                printError("FAIL normalize: \(failure)")
                throw ExitCode(1)
            case .success(let out):
                print("")
                print("normalize(\(sample)) as \(fam.name) v\(input.schemaVersion):")
                if let ns = out.eventTimeNanos { print("  event time: \(RFC3339.format(nanos: ns)) (\(ns) ns)") }
                for tag in out.tags { print("  tag \(tag.key)=\(tag.value)") }
                if let payload = out.payloadJSON { print("  payload: \(payload)") }
                for (r, row) in out.rows.enumerated() {
                    let cells = zip(fam.columns, row).map { column, value in
                        if case .timestampNanos(let ns) = value { return "\(column.name)=\(RFC3339.format(nanos: ns))" }
                        return "\(column.name)=\(value.textValue ?? "NULL")"
                    }
                    print("  row \(r): " + cells.joined(separator: " "))
                }
                print("OK   \(plugin.path) normalized the sample into \(out.rows.count) row(s)")
            }
        }

        private func printDescriptor(_ plugin: LoadedPlugin) {
            let d = plugin.descriptor
            print("file:        \(plugin.path)")
            print("plugin:      \(d.name) \(d.version)")
            print("abi:         \(d.abiMajor).\(d.abiMinor) (descriptor \(d.structSize) bytes)")
            print("build:       \(d.buildInfo.isEmpty ? "(not given)" : d.buildInfo)")
            print("kernel:      \(HostToolchain.line)")
            print("thread-safe: \(d.threadSafe)  batch normalize: \(d.hasBatchNormalize)")
            for f in d.families {
                print("family \(f.name) versions \(f.versions.lowerBound)...\(f.versions.upperBound), max \(f.maxRowsPerEvent) row(s)/event, payload schema: \(f.payloadSchemaJSON == nil ? "none" : "yes")")
                if f.columns.isEmpty { print("  (no typed columns: stored as generic JSON)") }
                for c in f.columns {
                    var line = "  \(c.name) \(c.type.sqlName)\(c.nullable ? "" : " NOT NULL")"
                    if let allowed = c.allowedValues { line += " IN (\(allowed.joined(separator: ", ")))" }
                    if let text = c.description { line += "  -- \(text)" }
                    print(line)
                }
            }
        }
    }
}

struct SampleError: Error, CustomStringConvertible {
    let description: String
}

/// Reads a sample file: a bare payload object, or an envelope whose `payload` is used.
func sampleEvent(path: String, family: FamilyDescriptor, version: UInt32) throws -> EventInput {
    guard let bytes = readWholeFile(path) else { throw SampleError(description: "cannot read file") }
    let value = try JSONParser.parse(bytes)
    guard let object = value.objectValue else { throw SampleError(description: "not a JSON object") }
    var payload = bytes
    var eventID = "00000000-0000-4000-8000-000000000001"
    var subjectID = "00000000-0000-4000-8000-000000000002"
    if let inner = object["payload"], inner.objectValue != nil, object["event_id"] != nil {
        payload = Array(JSONWriter.serialize(inner).utf8)
        eventID = object["event_id"]?.stringValue ?? eventID
        subjectID = object["subject_id"]?.stringValue ?? subjectID
    }
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return EventInput(family: family.name, schemaVersion: version, eventID: eventID, subjectID: subjectID,
                      tsUnixNanos: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec), payload: payload)
}

func readWholeFile(_ path: String) -> [UInt8]? {
    try? FileDescriptorIO.readFile(path, limit: 64 << 20).get()
}

func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Plugin log lines during CLI inspection go to stderr as plain text.
func quietLogger() -> Logger {
    var logger = Logger(label: "kernel.cli") { label in StreamLogHandler.standardError(label: label) }
    logger.logLevel = .warning
    return logger
}
