import KernelPostgres
import KernelRedis

/// A review/revoke/listing failure with its HTTP status (docs/admin.md, "Endpoints"). `code` is the stable
/// reason code of the log line and of the `{"error": code}` response body.
struct AdminStoreError: Error, Sendable {
    let status: Int
    let code: String
    let detail: String

    init(status: Int, code: String, _ detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    /// A refused review (wrong key state, unknown fingerprint): 400.
    static func refused(_ code: String, _ detail: String) -> AdminStoreError {
        AdminStoreError(status: 400, code: code, detail)
    }

    /// Postgres failed inside a review: the review answers 400 (docs/admin.md, "POST /auth/review"). A refusal raised by
    /// the review functions (SQLSTATE P0001, message `"<code>: <detail>"`) keeps its code.
    static func reviewDatabase(_ error: PGError) -> AdminStoreError {
        if error.sqlState == "P0001", let colon = error.message.firstIndex(of: ":") {
            let code = String(error.message[..<colon])
            if !code.isEmpty, code.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x5f }) {
                let detail = error.message[error.message.index(after: colon)...].trimmingScalars(in: " ")
                return AdminStoreError(status: 400, code: code, detail)
            }
        }
        return AdminStoreError(status: 400, code: error.reasonCode, error.message)
    }

    /// Storage unavailable (listing, revoke): 500.
    static func storage(_ error: PGError) -> AdminStoreError {
        AdminStoreError(status: 500, code: error.reasonCode, error.message)
    }

    static func storage(_ error: RedisError) -> AdminStoreError {
        AdminStoreError(status: 500, code: "redis_unavailable", error.description)
    }
}
