import KernelPluginABI

/// The `kp_builder_api` table the host hands every plugin call. It is built once and never freed:
/// plugins may keep the pointer for the duration of a call, and there is one table per process.
enum BuilderAPI {
    nonisolated(unsafe) static let table: UnsafePointer<kp_builder_api> = {
        let api = UnsafeMutablePointer<kp_builder_api>.allocate(capacity: 1)
        api.initialize(to: kp_builder_api(
            struct_size: UInt32(MemoryLayout<kp_builder_api>.size),
            set_payload_json: { b, p, n in status(b) { $0.setPayload(bytes(p, n)) } },
            add_tag: { b, k, kn, v, vn in status(b) { $0.addTag(key: bytes(k, kn), value: bytes(v, vn)) } },
            set_event_time_ns: { b, ns in status(b) { $0.setEventTime(ns) } },
            begin_row: { b in status(b) { $0.beginRow() } },
            set_text: { b, col, p, n in
                status(b) { c in
                    guard let s = OutputCollector.text(bytes(p, n), max: OutputCollector.maxTextBytes) else {
                        return c.violate("set_text: column \(c.columnName(col)): not valid UTF-8 text without NUL bytes of at most \(OutputCollector.maxTextBytes) bytes")
                    }
                    return c.set(col, .text(s), setter: "set_text")
                }
            },
            set_numeric: { b, col, p, n in
                status(b) { c in
                    // Checked on the bytes, so a good value costs one String and no second scan.
                    let raw = bytes(p, n)
                    let text = String(decoding: raw, as: UTF8.self)
                    guard OutputCollector.isDecimal(raw) else {
                        return c.set(col, .numeric(text), setter: "set_numeric",
                                     invalid: "\"\(text.prefix(64))\" is not a decimal number")
                    }
                    return c.set(col, .numeric(text), setter: "set_numeric", prechecked: true)
                }
            },
            set_int64: { b, col, v in status(b) { $0.set(col, .int64(v), setter: "set_int64") } },
            set_float64: { b, col, v in status(b) { $0.set(col, .float64(v), setter: "set_float64") } },
            set_bool: { b, col, v in status(b) { $0.set(col, .bool(v != 0), setter: "set_bool") } },
            set_timestamp_ns: { b, col, v in status(b) { $0.set(col, .timestampNanos(v), setter: "set_timestamp_ns") } },
            set_jsonb: { b, col, p, n in
                status(b) { c in
                    let raw = bytes(p, n)
                    guard raw.count <= OutputCollector.maxTextBytes, JSONScannerBridge.isValidJSON(raw) else {
                        return c.violate("set_jsonb: column \(c.columnName(col)): not valid JSON of at most \(OutputCollector.maxTextBytes) bytes")
                    }
                    return c.set(col, .jsonb(String(decoding: raw, as: UTF8.self)), setter: "set_jsonb")
                }
            },
            set_null: { b, col in status(b) { $0.set(col, .null, setter: "set_null") } },
            select_event: { b, i in status(b) { $0.select(i) } },
            fail_event: { b, i, st, p, n in
                status(b) { $0.fail(i, status: st.rawValue, message: String(decoding: bytes(p, n), as: UTF8.self)) }
            }
        ))
        return UnsafePointer(api)
    }()

    /// Runs `body` on the collector behind the opaque builder and maps its outcome to a kp_status.
    private static func status(_ b: OpaquePointer?, _ body: (OutputCollector) -> String?) -> kp_status {
        guard let b else { return KP_ERR_INVALID_PAYLOAD }
        let collector = Unmanaged<OutputCollector>.fromOpaque(UnsafeRawPointer(b)).takeUnretainedValue()
        return body(collector) == nil ? KP_OK : KP_ERR_INVALID_PAYLOAD
    }

    private static func bytes(_ p: UnsafePointer<CChar>?, _ n: Int) -> UnsafeRawBufferPointer {
        guard let p, n > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: n)
    }
}
