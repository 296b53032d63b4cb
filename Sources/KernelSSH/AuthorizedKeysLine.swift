import KernelCrypto
/// One authorized_keys-format line: `type SP base64-blob [SP comment]`, surrounding whitespace and a
/// trailing newline allowed. Only the syntax is checked here; the blob is decoded but not parsed.
struct AuthorizedKeysLine {
    /// Longest line accepted: a 16384-bit RSA certificate with many principals stays far below.
    static let maxLength = 64 * 1024

    let type: String
    let blob: [UInt8]
    let comment: String

    init?(_ line: String) {
        let bytes = Array(line.utf8)
        guard bytes.count <= Self.maxLength else { return nil }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D || isSpace(bytes[end - 1]) { end -= 1 }
        var i = 0
        while i < end, isSpace(bytes[i]) { i += 1 }
        let typeStart = i
        while i < end, !isSpace(bytes[i]) { i += 1 }
        guard i > typeStart, i < end else { return nil }
        let type = bytes[typeStart..<i]
        // Key types are printable ASCII names; anything else is not a key line.
        guard type.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        while i < end, isSpace(bytes[i]) { i += 1 }
        let blobStart = i
        while i < end, !isSpace(bytes[i]) { i += 1 }
        guard i > blobStart, let blob = Base64.standardDecode(bytes[blobStart..<i]) else { return nil }
        while i < end, isSpace(bytes[i]) { i += 1 }
        let comment = bytes[i..<end]
        // A line break inside would make this two lines.
        guard !comment.contains(0x0A), !comment.contains(0x0D) else { return nil }
        self.type = String(decoding: type, as: UTF8.self)
        self.blob = blob
        self.comment = String(decoding: comment, as: UTF8.self)
    }
}
