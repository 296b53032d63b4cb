/// Why a family table could not be created or brought up to date.
public enum FamilyTableError: Error, Sendable, CustomStringConvertible {
    /// The spec itself is invalid (bad name, duplicate column, empty allowed values …).
    case invalidSpec(family: String, column: String?, reason: String)
    /// The declaration changed in a way existing rows cannot follow (type change, dropped
    /// column, nullable → NOT NULL, new NOT NULL column, narrowed allowed values). The existing
    /// table is left as it was.
    case incompatibleChange(family: String, column: String, reason: String)
    /// A database error.
    case database(family: String, error: PGError)

    /// A stable code for logs and metrics.
    public var reasonCode: String {
        switch self {
        case .invalidSpec: "family_spec_invalid"
        case .incompatibleChange: "family_change_incompatible"
        case .database: "family_db_error"
        }
    }

    public var description: String {
        switch self {
        case .invalidSpec(let family, let column, let reason):
            "family \(family)\(column.map { " column \($0)" } ?? ""): invalid declaration: \(reason)"
        case .incompatibleChange(let family, let column, let reason):
            "family \(family) column \(column): incompatible change refused (\(reason)); the existing table is unchanged"
        case .database(let family, let error):
            "family \(family): \(error)"
        }
    }
}
