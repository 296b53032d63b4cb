/// C strings for the descriptor: allocated once, NUL-terminated, never freed (the descriptor
/// lives as long as the process, because plugins are never unloaded).
enum CStrings {
    /// A fresh NUL-terminated copy of `s`. An embedded NUL truncates the C view; `PluginInfo`
    /// validation reports it.
    static func leak(_ s: String) -> UnsafePointer<CChar> {
        let bytes = Array(s.utf8)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        return UnsafePointer(p)
    }

    /// A NULL-terminated array of C strings (for `kp_column.allowed_values`).
    static func leakList(_ list: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let p = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: list.count + 1)
        for (i, s) in list.enumerated() { p[i] = leak(s) }
        p[list.count] = nil
        return UnsafePointer(p)
    }
}
