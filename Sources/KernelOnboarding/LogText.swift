import KernelEvents

/// Untrusted text made safe for a log field: control characters replaced, length bounded.
enum SafeText {
    static let maxLength = 128

    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(maxLength) {
            out.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
        }
        if text.unicodeScalars.count > maxLength { out += "…" }
        return out
    }
}

/// UUID text in the one spelling the kernel uses (lowercase, hyphenated).
enum EventUUIDText {
    /// `text` normalized; unchanged when it is not a UUID.
    static func normalized(_ text: String) -> String {
        EventUUID(text)?.description ?? text
    }
}
