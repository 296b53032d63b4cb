import KernelPluginABI

/// Where `normalize` writes one event's output: the host's builder (`kp_output`).
///
/// Setters never throw, to keep normalizers readable: the first problem (a setter on the wrong
/// column type, no row begun, a value the host refused) is remembered in `failure`, later calls
/// are ignored, and the SDK fails the event with that message once `normalize` returns. Values
/// are copied by the host before each call returns. Valid only during the `normalize` call.
public struct Output {
    let raw: UnsafePointer<kp_output>
    /// The family's columns, for addressing and type checks.
    public let columns: ColumnTable
    /// Rows begun so far for this event.
    public private(set) var rowCount = 0
    /// The first problem met, if any; the event fails with it.
    public private(set) var failure: NormalizeError?

    init(_ raw: UnsafePointer<kp_output>, columns: ColumnTable) {
        self.raw = raw
        self.columns = columns
    }

    // MARK: event-level output

    /// Replaces the stored payload (default: the input payload unchanged). Must be an object.
    public mutating func setPayload(_ value: JSONValue) {
        guard case .object = value else {
            return fail(.internal("setPayload: the stored payload must be a JSON object"))
        }
        setPayloadJSON(JSONWriter.serialize(value))
    }

    /// Replaces the stored payload with JSON text the plugin vouches for (an object).
    public mutating func setPayloadJSON(_ json: String) {
        guard failure == nil else { return }
        guard let api = raw.pointee.api?.pointee.set_payload_json else { return missing("set_payload_json") }
        let status = Self.withCChars(json) { p, n in api(raw.pointee.builder, p, n) }
        check(status, "set_payload_json")
    }

    /// Adds a tag such as `core.symbol` = `AAPL`; key and value must be non-empty.
    public mutating func addTag(key: String, value: String) {
        guard failure == nil else { return }
        guard !key.isEmpty, !value.isEmpty else { return fail(.invalidPayload("tag '\(key)' needs a non-empty key and value")) }
        guard let api = raw.pointee.api?.pointee.add_tag else { return missing("add_tag") }
        let status = Self.withCChars(key) { k, kn in
            Self.withCChars(value) { v, vn in api(raw.pointee.builder, k, kn, v, vn) }
        }
        check(status, "add_tag(\(PayloadObject.clip(key)))")
    }

    /// Sets the exchange/event time, stored as `ts_event` beside the envelope's `ts`.
    public mutating func setEventTime(unixNanos: Int64) {
        guard failure == nil else { return }
        guard let api = raw.pointee.api?.pointee.set_event_time_ns else { return missing("set_event_time_ns") }
        check(api(raw.pointee.builder, unixNanos), "set_event_time_ns")
    }

    // MARK: typed rows

    /// Starts a new row, all columns NULL; required before the column setters.
    public mutating func beginRow() {
        guard failure == nil else { return }
        guard rowCount < columns.maxRows else {
            return fail(.invalidPayload("more than \(columns.maxRows) rows for one \(columns.family) event"))
        }
        guard let api = raw.pointee.api?.pointee.begin_row else { return missing("begin_row") }
        rowCount += 1
        check(api(raw.pointee.builder), "begin_row")
    }

    /// Sets a `text` column; nil sets NULL.
    public mutating func set(_ column: some ColumnAddress, text: String?) {
        guard let index = resolve(column, .text, "text"), let text else { return setNullResolved(column, text) }
        guard let api = raw.pointee.api?.pointee.set_text else { return missing("set_text") }
        check(Self.withCChars(text) { p, n in api(raw.pointee.builder, index, p, n) }, "set_text", index)
    }

    /// Sets a `numeric` column from exact decimal text; nil sets NULL.
    public mutating func set(_ column: some ColumnAddress, numeric: DecimalText?) {
        guard let index = resolve(column, .numeric, "numeric"), let numeric else { return setNullResolved(column, numeric) }
        guard let api = raw.pointee.api?.pointee.set_numeric else { return missing("set_numeric") }
        check(Self.withCChars(numeric.text) { p, n in api(raw.pointee.builder, index, p, n) }, "set_numeric", index)
    }

    /// Sets an `int8` or `int4` column (an `int4` value must fit 32 bits); nil sets NULL.
    public mutating func set(_ column: some ColumnAddress, int64: Int64?) {
        guard let index = resolve(column, nil, "int64") else { return }
        let type = columns.types[Int(index)]
        guard type == .int8 || type == .int4 else { return wrongType(index, "int64") }
        guard let int64 else { return setNullResolved(column, int64) }
        if type == .int4, !(Int64(Int32.min)...Int64(Int32.max)).contains(int64) {
            return fail(.invalidPayload("value \(int64) does not fit the integer column '\(columns.names[Int(index)])'"))
        }
        guard let api = raw.pointee.api?.pointee.set_int64 else { return missing("set_int64") }
        check(api(raw.pointee.builder, index, int64), "set_int64", index)
    }

    /// Sets a `float8` column (finite values only); nil sets NULL.
    public mutating func set(_ column: some ColumnAddress, float64: Double?) {
        guard let index = resolve(column, .float8, "float64"), let float64 else { return setNullResolved(column, float64) }
        guard float64.isFinite else { return fail(.invalidPayload("non-finite value for column '\(columns.names[Int(index)])'")) }
        guard let api = raw.pointee.api?.pointee.set_float64 else { return missing("set_float64") }
        check(api(raw.pointee.builder, index, float64), "set_float64", index)
    }

    /// Sets a `bool` column; nil sets NULL.
    public mutating func set(_ column: some ColumnAddress, bool: Bool?) {
        guard let index = resolve(column, .bool, "bool"), let bool else { return setNullResolved(column, bool) }
        guard let api = raw.pointee.api?.pointee.set_bool else { return missing("set_bool") }
        check(api(raw.pointee.builder, index, bool ? 1 : 0), "set_bool", index)
    }

    /// Sets a `timestamptz` column from Unix nanoseconds; nil sets NULL.
    public mutating func set(_ column: some ColumnAddress, timestampNanos: Int64?) {
        guard let index = resolve(column, .timestamptz, "timestampNanos"), let timestampNanos else {
            return setNullResolved(column, timestampNanos)
        }
        guard let api = raw.pointee.api?.pointee.set_timestamp_ns else { return missing("set_timestamp_ns") }
        check(api(raw.pointee.builder, index, timestampNanos), "set_timestamp_ns", index)
    }

    /// Sets a `jsonb` column; nil sets NULL.
    public mutating func set(_ column: some ColumnAddress, jsonb: JSONValue?) {
        guard let index = resolve(column, .jsonb, "jsonb"), let jsonb else { return setNullResolved(column, jsonb) }
        guard let api = raw.pointee.api?.pointee.set_jsonb else { return missing("set_jsonb") }
        check(Self.withCChars(JSONWriter.serialize(jsonb)) { p, n in api(raw.pointee.builder, index, p, n) }, "set_jsonb", index)
    }

    /// Sets any column to NULL (it already is, after `beginRow()`).
    public mutating func setNull(_ column: some ColumnAddress) {
        guard let index = resolve(column, nil, "null") else { return }
        guard let api = raw.pointee.api?.pointee.set_null else { return missing("set_null") }
        check(api(raw.pointee.builder, index), "set_null", index)
    }

    // MARK: plumbing

    /// The column index for a setter of `kind`, or nil after recording why not. A nil value with
    /// a resolvable column falls through to `setNullResolved`, which then sets NULL.
    private mutating func resolve(_ column: some ColumnAddress, _ type: ColumnType?, _ kind: String) -> UInt32? {
        guard failure == nil else { return nil }
        guard rowCount > 0 else {
            fail(.internal("set(\(kind):) before beginRow() in family \(columns.family)"))
            return nil
        }
        guard let index = column.columnIndex(in: columns) else {
            fail(.internal("set(\(kind):) on an unknown column \(column) of family \(columns.family)"))
            return nil
        }
        if let type, columns.types[index] != type {
            wrongType(UInt32(index), kind)
            return nil
        }
        return UInt32(index)
    }

    /// Called when `resolve` failed (nothing to do: the failure is recorded) or the value is nil.
    private mutating func setNullResolved<V>(_ column: some ColumnAddress, _ value: V?) {
        guard failure == nil, value == nil else { return }
        setNull(column)
    }

    private mutating func wrongType(_ index: UInt32, _ kind: String) {
        let i = Int(index)
        fail(.internal("set(\(kind):) on column '\(columns.names[i])' of type \(columns.types[i]) in family \(columns.family)"))
    }

    /// Records that the host's builder lacks callback `name` (a host bug; ABI 1.0 has them all).
    private mutating func missing(_ name: String) {
        fail(.internal("the host's builder has no \(name) callback"))
    }

    /// Records a refusal by the host. `call` is an autoclosure so the success path builds no string.
    private mutating func check(_ status: kp_status, _ call: @autoclosure () -> String, _ column: UInt32? = nil) {
        guard status != KP_OK else { return }
        let target = column.map { " on column '\(columns.names[Int($0)])'" } ?? ""
        fail(.invalidPayload("the host rejected \(call())\(target) of family \(columns.family) (status \(status.rawValue))"))
    }

    mutating func fail(_ error: NormalizeError) {
        if failure == nil { failure = error }
    }

    /// Calls `body` with the UTF-8 bytes of `s` as C characters; never a NULL pointer.
    static func withCChars<R>(_ s: String, _ body: (UnsafePointer<CChar>, Int) -> R) -> R {
        var s = s
        return s.withUTF8 { buf in
            if let base = buf.baseAddress, buf.count > 0 {
                return base.withMemoryRebound(to: CChar.self, capacity: buf.count) { body($0, buf.count) }
            }
            return withUnsafePointer(to: CChar(0)) { body($0, 0) }
        }
    }
}
