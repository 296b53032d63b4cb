import KernelRuntime
import KernelEvents
#if canImport(Glibc)
import Glibc
#endif

/// The messages between the kernel and a plugin-host child (`kernel plugin-host`), over one
/// stream socket: each message is a frame, `u32 length | body`, native endianness (both ends are
/// the same binary on the same machine).
///
/// One request per normalize call of the processor, however many events it carries: the cost of
/// a round trip (two context switches, two system calls each way) is paid per batch, not per event.
///
/// ```
/// hello     kernel → child   u8 1 | str config_json | str name | str version
/// ready     child → kernel   u8 1 | u8 ok | str error
/// normalize kernel → child   u8 2 | i64 budget_ns | str family | u32 schema_version | u32 n
///                            | n × (ids | i64 ts_ns | bytes payload)
/// ids       u8 0 | 4 × i64 (event id high, low; subject id high, low)   (the ingest path)
///           u8 1 | str event_id | str subject_id                        (ids given as text)
/// results   child → kernel   u8 2 | i64 total_ns | i64 slowest_ns | u32 slow_calls | u32 n
///                            | n × result
/// result    u8 0 (ok) | opt-str payload_json | opt-i64 event_time_ns | u32 tags × (str, str)
///                     | u32 rows × (u32 columns × value)
///           u8 1 (failure) | u8 kind | str message
/// value     u8 type (0 null, 1 text, 2 numeric, 3 int64, 4 float64, 5 bool, 6 timestamp, 7 jsonb)
///           then str, i64 or u8 as the type says
/// ```
/// `str`/`bytes` are `u32 length | bytes`; `opt-x` is `u8 present | x`.
public enum PluginHostProtocol {
    static let hello: UInt8 = 1
    static let normalize: UInt8 = 2
    /// Refuses a frame longer than this (a corrupt length must not make the reader allocate GBs).
    static let maxFrameBytes = 1 << 30

    static let failureKinds: [NormalizeFailure.Kind] = [.invalidPayload, .unsupportedVersion, .pluginError, .badOutput]

    // MARK: encoding

    static func encodeRequest(_ events: [EventInput], budgetNanos: Int64, into w: inout ByteWriter) {
        w.u8(normalize)
        w.i64(budgetNanos)
        w.string(events.first?.family ?? "")
        w.u32(events.first?.schemaVersion ?? 0)
        w.u32(UInt32(events.count))
        for e in events {
            switch e.ids {
            case .uuids(let event, let subject):
                // The ingest path's ids: 32 bytes, and no text for the child to parse.
                w.u8(0)
                w.i64(Int64(bitPattern: event.high)); w.i64(Int64(bitPattern: event.low))
                w.i64(Int64(bitPattern: subject.high)); w.i64(Int64(bitPattern: subject.low))
            case .text(let event, let subject):
                w.u8(1)
                w.string(event)
                w.string(subject)
            }
            w.i64(e.tsUnixNanos)
            w.bytes(e.payloadBytes)
        }
    }

    /// `frame` is the array `r` reads: payloads are slices of it, not copies (the caller lets go
    /// of the events before the next frame is read into it).
    static func decodeRequest(_ r: inout ByteReader, frame: [UInt8]) throws(PluginHostError)
        -> (events: [EventInput], budgetNanos: Int64)
    {
        guard try r.u8() == normalize else { throw .protocolViolation("expected a normalize request") }
        let budget = try r.i64()
        let family = try r.string()
        let version = try r.u32()
        let n = Int(try r.u32())
        var events: [EventInput] = []
        events.reserveCapacity(min(n, 1 << 16))
        for _ in 0..<n {
            var event: EventInput
            if try r.u8() == 0 {
                let e = EventUUID(high: UInt64(bitPattern: try r.i64()), low: UInt64(bitPattern: try r.i64()))
                let s = EventUUID(high: UInt64(bitPattern: try r.i64()), low: UInt64(bitPattern: try r.i64()))
                event = EventInput(family: family, schemaVersion: version, eventUUID: e, subjectUUID: s,
                                   tsUnixNanos: 0, payload: [])
            } else {
                event = EventInput(family: family, schemaVersion: version, eventID: try r.string(), subjectID: try r.string(),
                                   tsUnixNanos: 0, payload: [])
            }
            event.tsUnixNanos = try r.i64()
            event.payloadBytes = frame[try r.range()]
            events.append(event)
        }
        return (events, budget)
    }

    static func encodeResults(_ results: [Result<NormalizedEvent, NormalizeFailure>], timing: CallTiming,
                              into w: inout ByteWriter) {
        w.u8(normalize)
        w.i64(timing.totalNanos)
        w.i64(timing.slowestNanos)
        w.u32(UInt32(timing.slowCalls))
        w.u32(UInt32(results.count))
        for result in results {
            switch result {
            case .failure(let f):
                w.u8(1)
                w.u8(UInt8(failureKinds.firstIndex(of: f.kind) ?? 2))
                w.string(f.message)
            case .success(let e):
                w.u8(0)
                if let json = e.payloadJSON { w.u8(1); w.string(json) } else { w.u8(0) }
                if let t = e.eventTimeNanos { w.u8(1); w.i64(t) } else { w.u8(0) }
                w.u32(UInt32(e.tags.count))
                for tag in e.tags { w.string(tag.key); w.string(tag.value) }
                w.u32(UInt32(e.rows.count))
                for row in e.rows {
                    w.u32(UInt32(row.count))
                    for value in row { encode(value, into: &w) }
                }
            }
        }
    }

    private static func encode(_ value: ColumnValue, into w: inout ByteWriter) {
        switch value {
        case .null: w.u8(0)
        case .text(let s): w.u8(1); w.string(s)
        case .numeric(let s): w.u8(2); w.string(s)
        case .int64(let v): w.u8(3); w.i64(v)
        case .float64(let v): w.u8(4); w.i64(Int64(bitPattern: v.bitPattern))
        case .bool(let v): w.u8(5); w.u8(v ? 1 : 0)
        case .timestampNanos(let v): w.u8(6); w.i64(v)
        case .jsonb(let s): w.u8(7); w.string(s)
        }
    }

    static func decodeResults(_ r: inout ByteReader, expected: Int) throws(PluginHostError)
        -> (results: [Result<NormalizedEvent, NormalizeFailure>], timing: CallTiming)
    {
        guard try r.u8() == normalize else { throw .protocolViolation("expected normalize results") }
        var timing = CallTiming()
        timing.totalNanos = try r.i64()
        timing.slowestNanos = try r.i64()
        timing.slowCalls = Int(try r.u32())
        let n = Int(try r.u32())
        guard n == expected else { throw .protocolViolation("\(n) results for \(expected) events") }
        var results: [Result<NormalizedEvent, NormalizeFailure>] = []
        results.reserveCapacity(n)
        for _ in 0..<n {
            if try r.u8() == 1 {
                let kind = Int(try r.u8())
                let message = try r.string()
                results.append(.failure(NormalizeFailure(kind: kind < failureKinds.count ? failureKinds[kind] : .pluginError,
                                                         message: message)))
                continue
            }
            var e = NormalizedEvent()
            if try r.u8() == 1 { e.payloadJSON = try r.string() }
            if try r.u8() == 1 { e.eventTimeNanos = try r.i64() }
            let tagCount = Int(try r.u32())
            if tagCount > 0 {
                e.tags.reserveCapacity(min(tagCount, 1024))
                for _ in 0..<tagCount { e.tags.append(Tag(key: try r.string(), value: try r.string())) }
            }
            let rowCount = Int(try r.u32())
            e.rows.reserveCapacity(min(rowCount, 1024))
            for _ in 0..<rowCount {
                let columns = Int(try r.u32())
                var row: [ColumnValue] = []
                row.reserveCapacity(min(columns, 1024))
                for _ in 0..<columns { row.append(try decodeValue(&r)) }
                e.rows.append(row)
            }
            results.append(.success(e))
        }
        return (results, timing)
    }

    private static func decodeValue(_ r: inout ByteReader) throws(PluginHostError) -> ColumnValue {
        switch try r.u8() {
        case 0: return .null
        case 1: return .text(try r.string())
        case 2: return .numeric(try r.string())
        case 3: return .int64(try r.i64())
        case 4: return .float64(Double(bitPattern: UInt64(bitPattern: try r.i64())))
        case 5: return .bool(try r.u8() != 0)
        case 6: return .timestampNanos(try r.i64())
        case 7: return .jsonb(try r.string())
        case let t: throw .protocolViolation("unknown value type \(t)")
        }
    }

    /// Runs `body` on a reader over `buffer` (through a `Result`: a typed-throwing closure
    /// handed straight to `withUnsafeBytes` crashes the 6.3 compiler's SIL generation).
    static func reading<T>(_ buffer: [UInt8], _ body: (inout ByteReader) throws(PluginHostError) -> T) throws(PluginHostError) -> T {
        let result: Result<T, PluginHostError> = buffer.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            do throws(PluginHostError) { return .success(try body(&r)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: frames

    /// Writes one frame (the writer's bytes after its 4 reserved header bytes).
    static func send(_ w: inout ByteWriter, fd: Int32) throws(PluginHostError) {
        w.finishFrame()
        let ok = w.buffer.withUnsafeBytes { writeAll(fd, $0) }
        guard ok else { throw .io("write", errno) }
    }

    /// Reads one frame into `buffer` (reused between calls); nil at end of file before a header.
    static func receive(fd: Int32, into buffer: inout [UInt8]) throws(PluginHostError) -> Bool {
        var header: UInt32 = 0
        let got = withUnsafeMutableBytes(of: &header) { readAll(fd, $0) }
        if got == 0 { return false }
        guard got == 4 else { throw got < 0 ? .io("read", errno) : .io("read", ECONNRESET) }
        let length = Int(header)
        guard length <= maxFrameBytes else { throw .protocolViolation("frame of \(length) bytes") }
        if buffer.count < length { buffer = [UInt8](repeating: 0, count: max(length, buffer.count * 2)) }
        let body = buffer.withUnsafeMutableBytes { readAll(fd, UnsafeMutableRawBufferPointer(rebasing: $0[..<length])) }
        guard body == length else { throw body < 0 ? .io("read", errno) : .io("read", ECONNRESET) }
        return true
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        FileDescriptorIO.writeAll(fd, bytes) == 0
    }

    /// Bytes read (less than asked only at end of file), or -1.
    private static func readAll(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer) -> Int {
        FileDescriptorIO.readAll(fd, bytes)
    }
}

/// Why talking to a plugin-host child failed.
public enum PluginHostError: Error, Sendable, CustomStringConvertible {
    /// A malformed or unexpected message (a bug on one side, or a child that wrote garbage).
    case protocolViolation(String)
    /// A system call failed (`errno`).
    case io(String, Int32)
    /// The child could not be started.
    case spawn(String)
    /// The child started but could not load or initialise the plugin.
    case load(String)

    public var description: String {
        switch self {
        case .protocolViolation(let what): return "plugin-host protocol: \(what)"
        case .io(let op, let code): return "plugin-host \(op): \(String(cString: strerror(code)))"
        case .spawn(let what): return "plugin-host spawn: \(what)"
        case .load(let what): return "plugin-host load: \(what)"
        }
    }
}

/// Appends a frame: 4 header bytes reserved at the start, filled by `finishFrame`.
struct ByteWriter {
    var buffer: [UInt8] = []

    init(capacity: Int = 4096) {
        buffer.reserveCapacity(capacity)
        reset()
    }

    mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: [0, 0, 0, 0])
    }

    mutating func finishFrame() {
        let length = UInt32(buffer.count - 4)
        buffer.withUnsafeMutableBytes { $0.storeBytes(of: length, toByteOffset: 0, as: UInt32.self) }
    }

    mutating func u8(_ v: UInt8) { buffer.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v) { buffer.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v) { buffer.append(contentsOf: $0) } }
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { u32(UInt32($0.count)); buffer.append(contentsOf: $0) }
    }
    mutating func bytes(_ b: ArraySlice<UInt8>) { u32(UInt32(b.count)); buffer.append(contentsOf: b) }
}

/// Reads a frame body, bounds-checked: a short or corrupt frame is an error, never a trap.
struct ByteReader {
    let raw: UnsafeRawBufferPointer
    var offset = 0

    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

    private mutating func take(_ n: Int) throws(PluginHostError) -> Int {
        guard n >= 0, n <= raw.count - offset else { throw .protocolViolation("truncated frame") }
        defer { offset += n }
        return offset
    }

    mutating func u8() throws(PluginHostError) -> UInt8 { raw[try take(1)] }
    mutating func u32() throws(PluginHostError) -> UInt32 { raw.loadUnaligned(fromByteOffset: try take(4), as: UInt32.self) }
    mutating func i64() throws(PluginHostError) -> Int64 { raw.loadUnaligned(fromByteOffset: try take(8), as: Int64.self) }
    mutating func string() throws(PluginHostError) -> String {
        let n = Int(try u32())
        let at = try take(n)
        return String(decoding: UnsafeRawBufferPointer(rebasing: raw[at..<(at + n)]), as: UTF8.self)
    }
    /// A length-prefixed field's place in the frame.
    mutating func range() throws(PluginHostError) -> Range<Int> {
        let n = Int(try u32())
        let at = try take(n)
        return at..<(at + n)
    }
}
