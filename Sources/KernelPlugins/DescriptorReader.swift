import KernelJSON
import KernelPluginABI

#if canImport(Glibc)
import Glibc
#endif

/// Reads and validates a plugin's C descriptor, in the order OBS and SQLite taught: the major
/// version and struct size first, then copy what the plugin has into a zeroed host-sized struct,
/// then check every pointer and name before anything is called.
enum DescriptorReader {
    /// The size of each struct in ABI 1.0: the smallest a plugin may declare. Fixed numbers, not
    /// `MemoryLayout` of the current header: once 1.1 appends fields, 1.0 plugins must still load.
    /// Sources/KernelPluginABI/abi.c pins them with static assertions.
    static let descriptorV1Size = 88
    static let familyV1Size = 56
    static let columnV1Size = 32

    // The limits table of kernel_plugin.h, the one source the SDK and the docs also follow.
    static let maxFamilies = Int(KP_FAMILIES_MAX)
    static let maxColumns = Int(KP_COLUMNS_MAX)
    static let maxRowsPerEvent = Int(KP_ROWS_PER_EVENT_MAX)
    static let maxSchemaBytes = Int(KP_SCHEMA_JSON_MAX)

    /// Validates the descriptor at `raw` and returns the host's copy of it plus the Swift model.
    static func read(_ raw: UnsafeRawPointer, path: String) throws(PluginLoadError)
        -> (kp_plugin_descriptor, PluginDescriptor)
    {
        func fail(_ reason: PluginLoadError.Reason, _ detail: String) -> PluginLoadError {
            PluginLoadError(path: path, reason: reason, detail: detail)
        }
        // The first three fields are fixed forever: read them before trusting anything else.
        let abiMajor = raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
        let abiMinor = raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let structSize = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard abiMajor == UInt32(KP_ABI_MAJOR) else {
            throw fail(.abiMajorMismatch, "plugin ABI major \(abiMajor), host ABI major \(KP_ABI_MAJOR)")
        }
        guard abiMinor <= UInt32(KP_ABI_MINOR) else {
            throw fail(.abiMinorTooNew, "plugin built against ABI 1.\(abiMinor), host supports up to 1.\(KP_ABI_MINOR)")
        }
        guard Int(structSize) >= descriptorV1Size else {
            throw fail(.structTooSmall, "descriptor struct_size \(structSize) < \(descriptorV1Size) (ABI 1.0)")
        }
        let d = prefix(kp_plugin_descriptor(), from: raw, structSize: Int(structSize))

        guard d.`init` != nil else { throw fail(.nullFunction, "init is NULL") }
        guard d.normalize != nil else { throw fail(.nullFunction, "normalize is NULL") }
        guard d.destroy != nil else { throw fail(.nullFunction, "destroy is NULL") }

        guard let name = cString(d.name, max: Grammar.pluginNameMax), Grammar.isPluginName(name) else {
            throw fail(.invalidName, "plugin name must match \(Grammar.pluginNamePattern)")
        }
        guard let versionText = cString(d.version, max: Int(KP_VERSION_TEXT_MAX)), let version = SemanticVersion(versionText) else {
            throw fail(.invalidVersion, "plugin \(name): version must be MAJOR.MINOR.PATCH")
        }
        let buildInfo = cString(d.build_info, max: Int(KP_BUILD_INFO_MAX)) ?? ""
        if let mismatch = HostToolchain.mismatch(buildInfo: buildInfo) {
            throw fail(.toolchainMismatch, "plugin \(name): \(mismatch)")
        }

        guard d.family_count >= 1, Int(d.family_count) <= maxFamilies, let familiesPtr = d.families else {
            throw fail(.invalidFamily, "plugin \(name): family_count must be 1...\(maxFamilies) with a non-NULL array")
        }
        let familyRaw = UnsafeRawPointer(familiesPtr)
        let familyStride = Int(familyRaw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard familyStride >= familyV1Size else {
            throw fail(.structTooSmall, "plugin \(name): kp_family struct_size \(familyStride) < \(familyV1Size) (ABI 1.0)")
        }
        var families: [FamilyDescriptor] = []
        var seen: Set<String> = []
        for i in 0..<Int(d.family_count) {
            let at = familyRaw + i * familyStride
            guard Int(at.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == familyStride else {
                throw fail(.invalidFamily, "plugin \(name): family #\(i) has a struct_size unlike family #0")
            }
            let family = try readFamily(prefix(kp_family(), from: at, structSize: familyStride), index: i, plugin: name, path: path)
            guard seen.insert(family.name).inserted else {
                throw fail(.duplicateFamily, "plugin \(name) declares family \(family.name) twice")
            }
            families.append(family)
        }
        let model = PluginDescriptor(
            abiMajor: abiMajor, abiMinor: abiMinor, structSize: structSize,
            threadSafe: d.flags & UInt32(KP_PLUGIN_THREAD_SAFE) != 0,
            name: name, version: version, buildInfo: buildInfo, families: families,
            hasBatchNormalize: d.normalize_batch != nil)
        return (d, model)
    }

    private static func readFamily(_ f: kp_family, index: Int, plugin: String, path: String)
        throws(PluginLoadError) -> FamilyDescriptor
    {
        func fail(_ reason: PluginLoadError.Reason, _ detail: String) -> PluginLoadError {
            PluginLoadError(path: path, reason: reason, detail: "plugin \(plugin), family #\(index): \(detail)")
        }
        guard let name = cString(f.name, max: Grammar.familyNameMax), Grammar.isFamilyName(name) else {
            throw fail(.invalidFamily, "name must match \(Grammar.familyNamePattern)")
        }
        guard f.min_version >= 1, f.min_version <= f.max_version else {
            throw fail(.invalidFamily, "\(name): versions must satisfy 1 <= min_version <= max_version (got \(f.min_version)...\(f.max_version))")
        }
        var schema: String?
        if f.payload_schema_json != nil {
            guard let text = cString(f.payload_schema_json, max: maxSchemaBytes) else {
                throw fail(.invalidSchema, "\(name): payload_schema_json is not NUL-terminated within \(maxSchemaBytes) bytes")
            }
            let parsed: JSONValue
            do { parsed = try JSONParser.parse(text) } catch {
                throw fail(.invalidSchema, "\(name): payload_schema_json is not valid JSON (\(error))")
            }
            guard parsed.objectValue != nil else {
                throw fail(.invalidSchema, "\(name): payload_schema_json must be a JSON object")
            }
            schema = text
        }
        let rows = f.max_rows_per_event == 0 ? 1 : Int(f.max_rows_per_event)
        guard rows <= maxRowsPerEvent else {
            throw fail(.invalidFamily, "\(name): max_rows_per_event \(rows) exceeds \(maxRowsPerEvent)")
        }
        var columns: [ColumnDescriptor] = []
        if f.column_count > 0 {
            guard Int(f.column_count) <= maxColumns, let colsPtr = f.columns else {
                throw fail(.invalidColumn, "\(name): column_count must be <= \(maxColumns) with a non-NULL array")
            }
            let stride = f.column_struct_size == 0 ? columnV1Size : Int(f.column_struct_size)
            guard stride >= columnV1Size else {
                throw fail(.structTooSmall, "\(name): column_struct_size \(stride) < \(columnV1Size) (ABI 1.0)")
            }
            var names: Set<String> = []
            for c in 0..<Int(f.column_count) {
                let col = prefix(kp_column(), from: UnsafeRawPointer(colsPtr) + c * stride, structSize: stride)
                let column = try readColumn(col, family: name, index: c, fail: fail)
                guard names.insert(column.name).inserted else {
                    throw fail(.invalidColumn, "\(name): column \(column.name) declared twice")
                }
                columns.append(column)
            }
        } else if f.columns != nil {
            throw fail(.invalidColumn, "\(name): columns is non-NULL but column_count is 0")
        }
        return FamilyDescriptor(name: name, versions: f.min_version...f.max_version, payloadSchemaJSON: schema,
                                columns: columns, maxRowsPerEvent: rows)
    }

    private static func readColumn(
        _ col: kp_column, family: String, index: Int,
        fail: (PluginLoadError.Reason, String) -> PluginLoadError
    ) throws(PluginLoadError) -> ColumnDescriptor {
        guard let name = cString(col.name, max: Grammar.columnNameMax), Grammar.isColumnName(name) else {
            throw fail(.invalidColumn, "\(family): column #\(index) name must match \(Grammar.columnNamePattern)")
        }
        guard !reservedColumnNames.contains(name) else {
            throw fail(.invalidColumn, "\(family): column \(name) uses a reserved identity column name")
        }
        guard let type = ColumnType(rawValue: col.type.rawValue) else {
            throw fail(.invalidColumn, "\(family): column \(name) has unknown type \(col.type.rawValue)")
        }
        let knownFlags = UInt32(KP_COL_NULLABLE)
        guard col.flags & ~knownFlags == 0 else {
            throw fail(.invalidColumn, "\(family): column \(name) has unknown flags 0x\(String(col.flags, radix: 16))")
        }
        var allowed: [String]?
        if let list = col.allowed_values {
            guard type == .text else {
                throw fail(.invalidColumn, "\(family): column \(name): allowed_values is only valid on text columns")
            }
            var values: [String] = []
            var i = 0
            while let p = list[i] {
                guard values.count < Int(KP_ALLOWED_VALUES_MAX), let v = cString(p, max: Int(KP_ALLOWED_VALUE_MAX)), !v.isEmpty else {
                    throw fail(.invalidColumn, "\(family): column \(name): allowed_values must be 1...\(KP_ALLOWED_VALUES_MAX) non-empty strings of at most \(KP_ALLOWED_VALUE_MAX) bytes")
                }
                values.append(v)
                i += 1
            }
            guard !values.isEmpty else {
                throw fail(.invalidColumn, "\(family): column \(name): allowed_values is empty")
            }
            allowed = values
        }
        return ColumnDescriptor(name: name, type: type, nullable: col.flags & knownFlags != 0,
                                allowedValues: allowed, description: cString(col.description, max: 1024))
    }

    /// `zeroed` with the first `structSize` bytes at `raw` copied over it (at most its own size):
    /// what both sides know of a versioned struct; fields a newer plugin adds are ignored, fields
    /// an older one lacks stay zero.
    private static func prefix<Struct>(_ zeroed: Struct, from raw: UnsafeRawPointer, structSize: Int) -> Struct {
        var copy = zeroed
        withUnsafeMutableBytes(of: &copy) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: min(structSize, dst.count)))
        }
        return copy
    }

    /// Copies a NUL-terminated UTF-8 string of at most `max` bytes; nil if absent, too long or not UTF-8.
    static func cString(_ p: UnsafePointer<CChar>?, max: Int) -> String? {
        guard let p else { return nil }
        let n = strnlen(p, max + 1)
        guard n <= max else { return nil }
        let bytes = UnsafeRawBufferPointer(start: p, count: n)
        guard let s = String(validating: bytes, as: UTF8.self) else { return nil }
        return s
    }
}

/// Identifier grammars shared by the loader and the store.
public enum Grammar {
    /// Family names end up in table, partition and index names (`md_<family>_2026_11`), which
    /// Postgres limits to 63 bytes: hence the lengths of kernel_plugin.h's limits table, which the
    /// store enforces too.
    public static let familyNameMax = Int(KP_FAMILY_NAME_MAX)
    public static let columnNameMax = Int(KP_COLUMN_NAME_MAX)
    public static let pluginNameMax = Int(KP_PLUGIN_NAME_MAX)
    /// The grammars as regular expressions, for messages.
    public static let familyNamePattern = "[a-z][a-z0-9_]{0,\(familyNameMax - 1)}"
    public static let columnNamePattern = "[a-z][a-z0-9_]{0,\(columnNameMax - 1)}"
    public static let pluginNamePattern = "[a-z][a-z0-9_.-]{0,\(pluginNameMax - 1)}"

    public static func isFamilyName(_ s: String) -> Bool { ident(s, max: familyNameMax, extra: []) }
    public static func isColumnName(_ s: String) -> Bool { ident(s, max: columnNameMax, extra: []) }
    public static func isPluginName(_ s: String) -> Bool { ident(s, max: pluginNameMax, extra: [UInt8(ascii: "."), UInt8(ascii: "-")]) }

    private static func ident(_ s: String, max: Int, extra: Set<UInt8>) -> Bool {
        let u = Array(s.utf8)
        guard let first = u.first, u.count <= max, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else {
            return false
        }
        return u.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_") || extra.contains($0)
        }
    }
}
