import CLibPQ

/// Streams COPY FROM STDIN data into an open COPY on one connection.
///
/// Bytes are buffered and handed to `PQputCopyData` in chunks of `flushThreshold`, so callers can
/// write row by row without a syscall per row. Only valid inside `PGConnection.copyIn`.
public struct CopyWriter: ~Copyable {
    private let conn: OpaquePointer
    private var buffer: [UInt8] = []
    /// Buffered bytes before a `PQputCopyData` call; 64 KiB keeps calls few and memory flat.
    public var flushThreshold: Int = 64 * 1024
    /// Total bytes handed to libpq so far (after the final flush: the whole stream).
    public private(set) var bytesSent: Int = 0

    init(conn: OpaquePointer) {
        self.conn = conn
        buffer.reserveCapacity(flushThreshold)
    }

    /// Appends raw COPY bytes (binary COPY: the output of `PGBinaryCopyEncoder`).
    public mutating func write(_ bytes: some Sequence<UInt8>) throws(PGError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { try flush() }
    }

    /// Moves the encoder's pending bytes into the stream, leaving the encoder empty for more tuples.
    public mutating func write(_ encoder: inout PGBinaryCopyEncoder) throws(PGError) {
        try write(encoder.takeBytes())
    }

    /// Appends one row in COPY text format: tab-separated, `\N` for NULL, backslash escapes for
    /// backslash, newline, carriage return and tab.
    public mutating func writeTextRow(_ fields: [String?]) throws(PGError) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(0x09) }
            guard let field else {
                buffer.append(contentsOf: [0x5C, 0x4E])  // \N
                continue
            }
            for byte in field.utf8 {
                switch byte {
                case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
                case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(0x0A)
        if buffer.count >= flushThreshold { try flush() }
    }

    /// Sends everything buffered to libpq.
    public mutating func flush() throws(PGError) {
        guard !buffer.isEmpty else { return }
        let status = buffer.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                PQputCopyData(conn, chars.baseAddress, Int32(chars.count))
            }
        }
        guard status == 1 else {
            throw PGError(
                sqlState: nil, message: PGConnection.lastError(conn),
                connectionBad: PQstatus(conn) == CONNECTION_BAD)
        }
        bytesSent += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}
