import KernelPostgres

/// Why a whole batch could not be written. Events that Postgres refuses for data reasons are not
/// errors: they come back in `WriteReport.rejected` while the rest of the batch commits.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// Postgres is unreachable, went away, timed out or is read-only. Nothing from the batch is
    /// committed, except when the connection broke while COMMIT was in flight (then the outcome is
    /// unknown). Either way the caller retries the batch (on a new connection and `EventWriter`)
    /// or spills it; a retried event that did commit is detected and counted as a duplicate.
    case connectivity(PGError)
    /// Anything that is neither connectivity nor attributable to particular events: a missing
    /// table, a permission, a bug in the SQL. Nothing from the batch is committed; retrying the
    /// same batch will likely fail again.
    case database(PGError)

    /// The underlying Postgres error.
    public var pgError: PGError {
        switch self {
        case .connectivity(let error), .database(let error): error
        }
    }

    /// Stable reason code for logs and metrics (the Postgres error's own code).
    public var reasonCode: String { pgError.reasonCode }

    public var description: String {
        switch self {
        case .connectivity(let error): "store connectivity error: \(error)"
        case .database(let error): "store database error: \(error)"
        }
    }

    /// Wraps a Postgres error by its kind. A data error reaching here was not tied to an event
    /// (e.g. raised by a dictionary or partition call for the batch as a whole).
    static func wrap(_ error: PGError) -> StoreError {
        error.kind == .connectivity ? .connectivity(error) : .database(error)
    }

    /// Wraps a Postgres error raised outside the writer (e.g. while connecting) by its kind.
    public static func connectivityOrDatabase(_ error: PGError) -> StoreError { wrap(error) }
}
