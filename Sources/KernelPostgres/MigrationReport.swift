/// What one `Migrator.apply` run did.
public struct MigrationReport: Sendable, Equatable {
    /// Files applied in this run, in order.
    public var applied: [String] = []
    /// Files already applied with a matching checksum.
    public var skipped: [String] = []

    /// Creates an empty report.
    public init(applied: [String] = [], skipped: [String] = []) {
        self.applied = applied
        self.skipped = skipped
    }
}
