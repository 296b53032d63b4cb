/// Writes messages into the host's `err` buffer: truncated to fit, never splitting a UTF-8
/// sequence, always NUL-terminated, and a no-op for a NULL buffer or zero capacity.
enum ErrorBuffer {
    static func write(_ message: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
        guard let buffer, capacity > 0 else { return }
        var count = 0
        for b in message.utf8 {
            guard count < capacity - 1 else { break }
            buffer[count] = CChar(bitPattern: b == 0 ? UInt8(ascii: "?") : b)
            count += 1
        }
        // Truncated in the middle of a multi-byte sequence? Drop the incomplete sequence.
        if count < message.utf8.count {
            var lead = count
            while lead > 0, UInt8(bitPattern: buffer[lead - 1]) & 0xC0 == 0x80 { lead -= 1 }
            if lead > 0 {
                let b = UInt8(bitPattern: buffer[lead - 1])
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                if length > 1, count - (lead - 1) < length { count = lead - 1 }
            }
        }
        buffer[count] = 0
    }
}
