/// One schema family a plugin serves; becomes a C `kp_family`.
public struct FamilySpec: Sendable {
    /// Family name as registered by producers (`schema_name`): `[a-z][a-z0-9_]{0,39}` (`Limits.familyName`).
    public var name: String
    /// Schema versions accepted, inclusive, `1 ≤ lower ≤ upper`.
    public var versions: ClosedRange<UInt32>
    /// A JSON Schema subset describing the payload (docs/plugins.md, "Subject registration and the payload schema"), or nil to accept any object.
    public var payloadSchema: String?
    /// Typed columns in index order; empty = stored as normalized JSON in the generic table.
    public var columns: [Column]
    /// The most rows one event may produce (1 for a trade, N levels for a book).
    public var maxRowsPerEvent: UInt32

    public init(
        name: String,
        versions: ClosedRange<UInt32>,
        payloadSchema: String? = nil,
        columns: [Column] = [],
        maxRowsPerEvent: UInt32 = 1
    ) {
        self.name = name
        self.versions = versions
        self.payloadSchema = payloadSchema
        self.columns = columns
        self.maxRowsPerEvent = maxRowsPerEvent
    }

    /// The index of the column named `name`, if declared.
    public func columnIndex(named name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}
