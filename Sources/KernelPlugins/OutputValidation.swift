/// What a correct output looks like, checked after the fact: the conformance kit asks it about
/// every success of a hostile variation, so "a success has valid rows" is a property, not luck.
public enum OutputValidation {
    /// Why `out` is not a valid output of `family`, or nil when it is: a typed family has 1 to
    /// `maxRowsPerEvent` rows, each of the family's width, every value fits its column's type
    /// and allowed values, every non-nullable column is set; at most the limit of tags.
    public static func problem(_ out: NormalizedEvent, family: FamilyDescriptor) -> String? {
        if family.isTyped {
            guard (1...family.maxRowsPerEvent).contains(out.rows.count) else {
                return "\(out.rows.count) rows (family \(family.name) allows 1...\(family.maxRowsPerEvent))"
            }
        } else if !out.rows.isEmpty {
            return "rows for family \(family.name), which declares no columns"
        }
        for (r, row) in out.rows.enumerated() {
            guard row.count == family.columns.count else { return "row \(r) has \(row.count) values for \(family.columns.count) columns" }
            for (column, value) in zip(family.columns, row) {
                if value == .null {
                    if !column.nullable { return "row \(r): column \(column.name) is required but NULL" }
                    continue
                }
                if let problem = OutputCollector.check(value, for: column) { return "row \(r): column \(column.name): \(problem)" }
            }
        }
        if out.tags.count > OutputCollector.maxTags { return "\(out.tags.count) tags (at most \(OutputCollector.maxTags))" }
        return nil
    }
}
