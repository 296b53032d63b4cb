/// Checks key material shape (standard-alphabet base64, padded or not) without decoding it:
/// the config only needs to know the length, and must not keep decoded secrets around.
enum Base64Check {
    /// Number of bytes `text` decodes to, or nil when it is not standard base64.
    static func decodedCount(_ text: String) -> Int? {
        var bytes = Array(text.utf8)
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        let padding = text.utf8.count - bytes.count
        guard padding <= 2, !bytes.isEmpty else { return nil }
        let valid = bytes.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
        }
        guard valid, bytes.count % 4 != 1 else { return nil }
        if padding > 0, (bytes.count + padding) % 4 != 0 { return nil }
        return bytes.count * 3 / 4
    }
}
