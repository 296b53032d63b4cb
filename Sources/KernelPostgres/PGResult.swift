/// The rows of one query, copied out of libpq (text format) so the `PGresult` can be freed at once.
///
/// Meant for control-plane queries (a few rows); bulk data goes in with COPY, not out through here.
public struct PGResult: Sendable {
    /// Column names, in result order.
    public let columns: [String]
    /// Row values in text format; nil is SQL NULL.
    public let rows: [[String?]]
    /// The command tag's row count (`INSERT 0 5` → 5), 0 when the command has none.
    public let affectedRows: Int

    /// Creates a result from already-copied values (tests, fakes).
    public init(columns: [String], rows: [[String?]], affectedRows: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// Number of rows.
    public var count: Int { rows.count }

    /// The value at `row`, `column` (both zero-based); nil is SQL NULL.
    public subscript(row: Int, column: Int) -> String? { rows[row][column] }

    /// The value at `row` in the column named `name`; nil if NULL or no such column.
    public subscript(row: Int, name: String) -> String? {
        guard let index = columns.firstIndex(of: name) else { return nil }
        return rows[row][index]
    }

    /// The first column of the first row, the shape of `SELECT count(*)`-style queries.
    public var scalar: String? { rows.first?.first ?? nil }
}
