/// Something that names a column of the event's family: its index (`Int`), its name (`String`),
/// or a plugin's own `enum Col: Int, ColumnAddress` whose cases are in column order (the fastest
/// and typo-proof way).
public protocol ColumnAddress {
    /// The column's index in `columns`, or nil if there is no such column.
    func columnIndex(in columns: ColumnTable) -> Int?
}

extension Int: ColumnAddress {
    public func columnIndex(in columns: ColumnTable) -> Int? {
        self >= 0 && self < columns.names.count ? self : nil
    }
}

extension String: ColumnAddress {
    public func columnIndex(in columns: ColumnTable) -> Int? {
        columns.names.firstIndex(of: self)
    }
}

extension ColumnAddress where Self: RawRepresentable, RawValue == Int {
    public func columnIndex(in columns: ColumnTable) -> Int? {
        rawValue.columnIndex(in: columns)
    }
}

/// The columns of the family an `Output` writes, as far as addressing them needs.
public struct ColumnTable: Sendable {
    /// Family name, for messages.
    public let family: String
    /// Column names in index order.
    public let names: [String]
    /// Column types in index order.
    public let types: [ColumnType]
    /// Upper bound on `beginRow()` calls per event.
    public let maxRows: Int

    init(_ spec: FamilySpec) {
        family = spec.name
        names = spec.columns.map(\.name)
        types = spec.columns.map(\.type)
        maxRows = Int(max(spec.maxRowsPerEvent, 1))
    }
}
