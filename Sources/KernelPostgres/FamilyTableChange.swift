/// What `FamilyTables.ensure` did.
public enum FamilyTableChange: Sendable, Equatable {
    /// The table did not exist and was created.
    case created
    /// The table matched the declaration; only missing partitions (if any) were added.
    case unchanged
    /// Compatible changes were applied: `addedColumns` were added (nullable); `otherChanges`
    /// lists the rest in words (NOT NULL dropped, allowed values widened, comments).
    case altered(addedColumns: [String], otherChanges: [String])
}
