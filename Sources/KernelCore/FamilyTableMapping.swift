import KernelPlugins
import KernelPostgres

extension FamilyTableSpec {
    /// The table the store needs for a plugin-declared family with typed columns.
    public init(_ family: FamilyDescriptor) {
        self.init(family: family.name, columns: family.columns.map { column in
            ColumnSpec(name: column.name, pgType: PGColumnType(column.type), nullable: column.nullable,
                       allowedValues: column.allowedValues, description: column.description)
        })
    }
}

extension PGColumnType {
    init(_ type: ColumnType) {
        switch type {
        case .text: self = .text
        case .numeric: self = .numeric
        case .int8: self = .int8
        case .int4: self = .int4
        case .float8: self = .float8
        case .bool: self = .bool
        case .timestamptz: self = .timestamptz
        case .jsonb: self = .jsonb
        }
    }
}
