// The vocabulary the plugin host and the store share: what a schema family's typed rows look
// like (docs/architecture.md, "Modules"). No dependency: the store reads these without the
// plugin host, and the plugin host fills them from a plugin's descriptor.

/// One schema family a plugin serves.
public struct FamilyDescriptor: Sendable, Equatable {
    /// Copy-on-write storage: every stored event carries its family, and a copy of this struct is
    /// one retain instead of one per string and array inside it.
    private final class Storage: @unchecked Sendable {
        // @unchecked: never mutated once shared (`mutableStorage` copies first).
        var name: String
        var versions: ClosedRange<UInt32>
        var payloadSchemaJSON: String?
        var columns: [ColumnDescriptor]
        var maxRowsPerEvent: Int

        init(name: String, versions: ClosedRange<UInt32>, payloadSchemaJSON: String?, columns: [ColumnDescriptor],
             maxRowsPerEvent: Int) {
            self.name = name
            self.versions = versions
            self.payloadSchemaJSON = payloadSchemaJSON
            self.columns = columns
            self.maxRowsPerEvent = maxRowsPerEvent
        }

        func copy() -> Storage {
            Storage(name: name, versions: versions, payloadSchemaJSON: payloadSchemaJSON, columns: columns,
                    maxRowsPerEvent: maxRowsPerEvent)
        }
    }

    private var storage: Storage

    private var mutableStorage: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    public var name: String {
        get { storage.name }
        set { mutableStorage.name = newValue }
    }
    public var versions: ClosedRange<UInt32> {
        get { storage.versions }
        set { mutableStorage.versions = newValue }
    }
    /// JSON description of the payload (a JSON Schema subset), if the plugin gave one.
    public var payloadSchemaJSON: String? {
        get { storage.payloadSchemaJSON }
        set { mutableStorage.payloadSchemaJSON = newValue }
    }
    /// Typed columns; empty means the family's normalized payload goes to the generic table.
    public var columns: [ColumnDescriptor] {
        get { storage.columns }
        set { mutableStorage.columns = newValue }
    }
    public var maxRowsPerEvent: Int {
        get { storage.maxRowsPerEvent }
        set { mutableStorage.maxRowsPerEvent = newValue }
    }

    public init(name: String, versions: ClosedRange<UInt32>, payloadSchemaJSON: String?, columns: [ColumnDescriptor],
                maxRowsPerEvent: Int) {
        storage = Storage(name: name, versions: versions, payloadSchemaJSON: payloadSchemaJSON, columns: columns,
                          maxRowsPerEvent: maxRowsPerEvent)
    }

    public static func == (a: FamilyDescriptor, b: FamilyDescriptor) -> Bool {
        a.storage === b.storage
            || (a.name == b.name && a.versions == b.versions && a.payloadSchemaJSON == b.payloadSchemaJSON
                && a.columns == b.columns && a.maxRowsPerEvent == b.maxRowsPerEvent)
    }

    public var isTyped: Bool { !storage.columns.isEmpty }

    /// The table the kernel stores this family's typed rows in.
    public var tableName: String { "md_" + name }
}

/// A typed column declared by a family.
public struct ColumnDescriptor: Sendable, Equatable {
    public var name: String
    public var type: ColumnType
    public var nullable: Bool
    /// Allowed values of an enum-like text column, in declaration order.
    public var allowedValues: [String]?
    public var description: String?

    public init(name: String, type: ColumnType, nullable: Bool, allowedValues: [String]?, description: String?) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.allowedValues = allowedValues
        self.description = description
    }
}

/// The Postgres types a plugin column may have (mirrors `kp_column_type`).
public enum ColumnType: UInt32, Sendable, CaseIterable {
    case text = 1, numeric = 2, int8 = 3, int4 = 4, float8 = 5, bool = 6, timestamptz = 7, jsonb = 8

    /// The Postgres type name used in DDL.
    public var sqlName: String {
        switch self {
        case .text: "text"
        case .numeric: "numeric"
        case .int8: "bigint"
        case .int4: "integer"
        case .float8: "double precision"
        case .bool: "boolean"
        case .timestamptz: "timestamptz"
        case .jsonb: "jsonb"
        }
    }
}

/// "MAJOR.MINOR.PATCH" with an optional pre-release suffix that is kept but ignored for ordering
/// beyond "a release sorts after its pre-releases".
public struct SemanticVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32
    public var patch: UInt32
    public var prerelease: String?

    public init?(_ text: String) {
        var core = Substring(text)
        var pre: String?
        if let dash = core.firstIndex(of: "-") {
            pre = String(core[core.index(after: dash)...])
            core = core[..<dash]
            if pre!.isEmpty { return nil }
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [UInt32] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 9, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = UInt32(part), part == "0" || part.first != "0" else { return nil }
            numbers.append(n)
        }
        major = numbers[0]; minor = numbers[1]; patch = numbers[2]; prerelease = pre
    }

    public var description: String {
        "\(major).\(minor).\(patch)" + (prerelease.map { "-" + $0 } ?? "")
    }

    public static func < (a: SemanticVersion, b: SemanticVersion) -> Bool {
        if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) {
            return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
        }
        switch (a.prerelease, b.prerelease) {
        case (nil, nil), (nil, _?): return false
        case (_?, nil): return true
        case let (x?, y?): return x < y
        }
    }
}

/// Names the host reserves for the identity columns of every family table.
public let reservedColumnNames: Set<String> = [
    "event_id", "row_no", "ts", "ts_event", "subject_id", "producer_id", "schema_id", "received_at",
]
