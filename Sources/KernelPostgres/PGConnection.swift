import CLibPQ
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libpq connection. Every call blocks the calling thread until the server answers.
///
/// Run it on a dedicated thread, never on the Swift concurrency pool: a slow query would starve
/// the cooperative executor. It is `@unchecked Sendable` only so it can be handed to that thread;
/// libpq connections are not thread-safe, so exactly one owner may use it at a time.
public final class PGConnection: @unchecked Sendable {
    private var conn: OpaquePointer?
    private var noticeSink: Unmanaged<NoticeSink>?
    /// COPY statements `copyTransaction` has already checked: the writers send the same few
    /// strings every transaction, and the check (Foundation's case-insensitive search) cost a
    /// writer thread ~13 % of its CPU at low rates (perf, 3,300 events/s).
    private var checkedCopies: Set<String> = []

    /// Connects with a libpq connection string (`postgres://…` URL or `key=value` pairs).
    ///
    /// Server NOTICE/WARNING messages go to `logger` (debug/warning) rather than libpq's default
    /// of printing them on stderr.
    public init(dsn: String, logger: Logger = Logger(label: "kernel.postgres")) throws(PGError) {
        guard let conn = PQconnectdb(dsn) else {
            throw PGError(clientReason: "pg_out_of_memory", kind: .connectivity, message: "PQconnectdb returned NULL")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = PGConnection.lastError(conn)
            PQfinish(conn)
            throw PGError(sqlState: PGError.connectFailureState(message), message: message, connectionBad: true)
        }
        self.conn = conn
        let sink = Unmanaged.passRetained(NoticeSink(logger: logger))
        noticeSink = sink
        _ = PQsetNoticeReceiver(conn, { arg, result in
            guard let arg, let result else { return }
            Unmanaged<NoticeSink>.fromOpaque(arg).takeUnretainedValue().receive(result)
        }, sink.toOpaque())
    }

    deinit { close() }

    /// True while the connection is open and libpq considers it healthy.
    public var isConnected: Bool {
        guard let conn else { return false }
        return PQstatus(conn) == CONNECTION_OK
    }

    /// The server process id of this session (for `pg_terminate_backend` and logs).
    public var backendPID: Int32 {
        guard let conn else { return 0 }
        return PQbackendPID(conn)
    }

    /// Closes the connection; later calls fail with a connectivity error. Safe to call twice.
    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
        noticeSink?.release()
        noticeSink = nil
    }

    /// Runs one or more statements with the simple query protocol (no parameters, no results).
    /// Stops at the first failing statement; outside a transaction block the whole string is one
    /// implicit transaction.
    public func execute(_ sql: String) throws(PGError) {
        let conn = try liveConnection()
        try consume(PQexec(conn, sql), conn: conn)
    }

    /// Runs one statement with text-format parameters (`$1`, `$2`, …; nil is SQL NULL) and returns
    /// its rows in text format. Parameters are never interpolated into the SQL text.
    public func query(_ sql: String, _ params: [String?] = []) throws(PGError) -> PGResult {
        let conn = try liveConnection()
        let copies: [UnsafeMutablePointer<CChar>?] = params.map { $0.flatMap { strdup($0) } }
        defer { copies.forEach { free($0) } }
        let values: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let result = values.withUnsafeBufferPointer { buffer in
            PQexecParams(conn, sql, Int32(params.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        return try consume(result, conn: conn)
    }

    /// Runs `COPY … FROM STDIN` and streams the data that `write` produces.
    ///
    /// COPY errors (a bad value, a constraint) surface only after `PQputCopyEnd`, so this always
    /// drains `PQgetResult` to NULL and throws the first error found. If `write` throws, the COPY
    /// is aborted (nothing is inserted) and the error is rethrown as `pg_copy_aborted`.
    public func copyIn(_ sql: String, _ write: (inout CopyWriter) throws -> Void) throws(PGError) {
        let conn = try liveConnection()
        guard let start = PQexec(conn, sql) else { throw failure(conn) }
        let startStatus = PQresultStatus(start)
        guard startStatus == PGRES_COPY_IN else {
            if startStatus == PGRES_FATAL_ERROR {
                let error = resultError(start, conn: conn)
                PQclear(start)
                throw error
            }
            PQclear(start)
            _ = drain(conn)
            throw PGError(clientReason: "pg_not_copy_in", kind: .other, message: "statement did not start COPY FROM STDIN: \(sql)")
        }
        PQclear(start)

        var writer = CopyWriter(conn: conn)
        var abort: PGError?
        do {
            try write(&writer)
            try writer.flush()
        } catch let error as PGError {
            abort = error
        } catch {
            abort = PGError(clientReason: "pg_copy_aborted", kind: .other, message: "COPY aborted by caller: \(error)")
        }
        if let abort {
            _ = PQputCopyEnd(conn, "aborted by client: \(abort.reasonCode)")
            _ = drain(conn)
            // A connection that broke while streaming outranks the abort reason.
            if PQstatus(conn) == CONNECTION_BAD, abort.kind != .connectivity {
                throw PGError(sqlState: nil, message: abort.message, connectionBad: true)
            }
            throw abort
        }
        guard PQputCopyEnd(conn, nil) == 1 else {
            let error = failure(conn)
            _ = drain(conn)
            throw error
        }
        if let error = drain(conn) { throw error }
    }

    /// Runs `BEGIN; <copies[0]>; <copies[1]>; …; COMMIT` as one simple-protocol query, streaming
    /// each COPY's data (`write(i, &writer)` for `copies[i]`) when the server asks for it.
    ///
    /// The server runs the statements of one query string in order and pauses at each
    /// `COPY FROM STDIN` for its data, so two COPYs take three round trips instead of six (BEGIN,
    /// a start and an end per COPY, COMMIT): at low rates, where batches are a few events, the
    /// round trips are most of a transaction's time. COMMIT is part of the string, so success
    /// means committed (durable under synchronous_commit). On any error the server skips the
    /// rest of the string; the transaction is rolled back here and the first error thrown.
    public func copyTransaction(_ copies: [String], _ write: (Int, inout CopyWriter) throws -> Void) throws(PGError) {
        let conn = try liveConnection()
        // Only COPY FROM STDIN statements: anything else would run, and commit, between them.
        for sql in copies where !checkedCopies.contains(sql) {
            let upper = sql.uppercased()
            guard upper.hasPrefix("COPY "), upper.contains(" FROM STDIN"), !sql.contains(";") else {
                throw PGError(clientReason: "pg_not_copy_in", kind: .other, message: "not a single COPY FROM STDIN: \(sql)")
            }
            if checkedCopies.count < 1024 { checkedCopies.insert(sql) }
        }
        let text = "BEGIN;" + copies.map { $0 + ";" }.joined() + "COMMIT"
        guard PQsendQuery(conn, text) == 1 else { throw failure(conn) }
        var next = 0
        var first: PGError?
        while let result = PQgetResult(conn) {
            let status = PQresultStatus(result)
            if status != PGRES_COPY_IN, status != PGRES_COMMAND_OK, first == nil {
                first = resultError(result, conn: conn)
            }
            PQclear(result)
            if status == PGRES_COPY_IN {
                guard first == nil, next < copies.count else {
                    _ = PQputCopyEnd(conn, "unexpected COPY IN")
                    continue
                }
                var writer = CopyWriter(conn: conn)
                do {
                    try write(next, &writer)
                    try writer.flush()
                } catch let error as PGError {
                    first = error
                } catch {
                    first = PGError(clientReason: "pg_copy_aborted", kind: .other, message: "COPY aborted by caller: \(error)")
                }
                if let abort = first {
                    _ = PQputCopyEnd(conn, "aborted by client: \(abort.reasonCode)")
                } else if PQputCopyEnd(conn, nil) != 1 {
                    first = failure(conn)
                }
                next += 1
            }
            if PQstatus(conn) == CONNECTION_BAD { break }
        }
        if first == nil, PQstatus(conn) == CONNECTION_BAD { first = failure(conn) }
        if first == nil, next != copies.count {
            first = PGError(clientReason: "pg_not_copy_in", kind: .other,
                            message: "\(next) of \(copies.count) statements started COPY FROM STDIN")
        }
        guard let first else { return }
        if PQstatus(conn) == CONNECTION_OK, PQtransactionStatus(conn) != PQTRANS_IDLE { rollbackQuietly() }
        if PQstatus(conn) == CONNECTION_BAD, first.kind != .connectivity {
            // A connection that broke outranks the reason found before it broke.
            throw PGError(sqlState: nil, message: first.message, connectionBad: true)
        }
        throw first
    }

    /// Runs `body` between BEGIN and COMMIT; any error rolls back and is rethrown.
    public func transaction<T>(_ body: () throws(PGError) -> T) throws(PGError) -> T {
        try transaction(mappingErrors: { $0 }, body)
    }

    /// Runs `body` between `begin` (BEGIN, or BEGIN followed by statements of the transaction's
    /// own set-up, sent as one query string) and COMMIT. Any failure rolls back; the
    /// connection's own errors are rethrown as `wrap` makes them, `body`'s as they are.
    public func transaction<T, E: Error>(begin: String = "BEGIN", mappingErrors wrap: (PGError) -> E,
                                         _ body: () throws(E) -> T) throws(E) -> T {
        do {
            try execute(begin)
        } catch {
            rollbackQuietly()   // a set-up statement after BEGIN may have failed
            throw wrap(error)
        }
        let value: T
        do {
            value = try body()
        } catch {
            rollbackQuietly()
            throw error
        }
        do {
            try execute("COMMIT")
        } catch {
            rollbackQuietly()
            throw wrap(error)
        }
        return value
    }

    /// Sends ROLLBACK, ignoring failure (the connection may be gone; the server rolls back then).
    public func rollbackQuietly() {
        guard let conn, PQstatus(conn) == CONNECTION_OK else { return }
        if let result = PQexec(conn, "ROLLBACK") { PQclear(result) }
    }

    /// Quotes an identifier with libpq's own rules (double quotes, inner quotes doubled).
    public func quoteIdentifier(_ name: String) throws(PGError) -> String {
        let conn = try liveConnection()
        guard let quoted = PQescapeIdentifier(conn, name, name.utf8.count) else { throw failure(conn) }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    /// Quotes a string literal with libpq's own rules (respects the server's encoding and
    /// standard_conforming_strings). For DDL, where bind parameters are not allowed.
    public func quoteLiteral(_ value: String) throws(PGError) -> String {
        let conn = try liveConnection()
        guard let quoted = PQescapeLiteral(conn, value, value.utf8.count) else { throw failure(conn) }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    // MARK: - internals

    private func liveConnection() throws(PGError) -> OpaquePointer {
        guard let conn else {
            throw PGError(sqlState: nil, message: "connection is closed", connectionBad: true)
        }
        return conn
    }

    /// Checks a result, copies its rows out and frees it.
    @discardableResult
    private func consume(_ result: OpaquePointer?, conn: OpaquePointer) throws(PGError) -> PGResult {
        guard let result else { throw failure(conn) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PGResult(columns: [], rows: [], affectedRows: PGConnection.affected(result))
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return PGConnection.copyRows(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // A COPY started through execute/query: end it so the connection stays usable.
            _ = PQputCopyEnd(conn, "COPY must go through copyIn")
            _ = drain(conn)
            throw PGError(clientReason: "pg_unexpected_copy", kind: .other, message: "use copyIn for COPY statements")
        default:
            throw resultError(result, conn: conn)
        }
    }

    /// Reads results until NULL; returns the first error among them.
    private func drain(_ conn: OpaquePointer) -> PGError? {
        var first: PGError?
        while let result = PQgetResult(conn) {
            let status = PQresultStatus(result)
            if first == nil, status != PGRES_COMMAND_OK, status != PGRES_TUPLES_OK {
                first = resultError(result, conn: conn)
            }
            PQclear(result)
            if status == PGRES_COPY_IN { _ = PQputCopyEnd(conn, "unexpected COPY IN") }
            if PQstatus(conn) == CONNECTION_BAD { break }
        }
        return first
    }

    private func resultError(_ result: OpaquePointer, conn: OpaquePointer) -> PGError {
        let sqlState = PQresultErrorField(result, PGConnection.diagSQLState).map { String(cString: $0) }
        let primary = PQresultErrorField(result, PGConnection.diagMessagePrimary).map { String(cString: $0) }
        let message = primary ?? PQresultErrorMessage(result).map { String(cString: $0) } ?? "unknown error"
        return PGError(
            sqlState: sqlState?.isEmpty == true ? nil : sqlState,
            message: message.trimmingTrailingNewlines(),
            connectionBad: PQstatus(conn) == CONNECTION_BAD)
    }

    private func failure(_ conn: OpaquePointer) -> PGError {
        PGError(sqlState: nil, message: PGConnection.lastError(conn), connectionBad: PQstatus(conn) == CONNECTION_BAD)
    }

    static func lastError(_ conn: OpaquePointer) -> String {
        PQerrorMessage(conn).map { String(cString: $0) }?.trimmingTrailingNewlines() ?? "unknown libpq error"
    }

    private static func affected(_ result: OpaquePointer) -> Int {
        guard let tuples = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: tuples)) ?? 0
    }

    private static func copyRows(_ result: OpaquePointer) -> PGResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { PQfname(result, Int32($0)).map { String(cString: $0) } ?? "" }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
            rows.append(values)
        }
        return PGResult(columns: columns, rows: rows, affectedRows: affected(result))
    }

    // PG_DIAG_* are character-constant macros ('C', 'M', 'V'); spelled out here as their codes.
    static let diagSQLState = Int32(UInt8(ascii: "C"))
    static let diagMessagePrimary = Int32(UInt8(ascii: "M"))
    static let diagSeverity = Int32(UInt8(ascii: "V"))
}

/// Receives server notices for one connection and writes them to the logger.
private final class NoticeSink {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func receive(_ result: OpaquePointer) {
        let severity = PQresultErrorField(result, PGConnection.diagSeverity).map { String(cString: $0) } ?? "NOTICE"
        let message = PQresultErrorField(result, PGConnection.diagMessagePrimary).map { String(cString: $0) } ?? ""
        let sqlState = PQresultErrorField(result, PGConnection.diagSQLState).map { String(cString: $0) } ?? ""
        let metadata: Logger.Metadata = ["sqlstate": "\(sqlState)", "severity": "\(severity)"]
        if severity == "WARNING" {
            logger.warning("postgres_notice: \(message)", metadata: metadata)
        } else {
            logger.debug("postgres_notice: \(message)", metadata: metadata)
        }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while let last = text.last, last == "\n" || last == " " { text = text.dropLast() }
        return String(text)
    }
}
