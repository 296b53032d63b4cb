import COpenSSL

/// The OpenSSL error queue is per thread: read it right after the failing call, before anything
/// else on this thread can push or clear entries.
public enum OpenSSLError {
    /// The queued errors as text (oldest first), and the queue emptied.
    public static func drain() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            parts.append(text)
        }
        return parts.isEmpty ? "unknown libcrypto error" : parts.joined(separator: "; ")
    }

    /// Empties the queue without reading it (after an expected failure, e.g. a bad signature).
    public static func clear() {
        ERR_clear_error()
    }
}
