extension StringProtocol {
    /// Without leading/trailing Unicode scalars from `set` (scalars, not Characters: "\r\n" is
    /// one Character but two scalars).
    func trimmingScalars(in set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        let view = unicodeScalars
        guard let first = view.firstIndex(where: { !scalars.contains($0) }) else { return "" }
        let last = view.lastIndex(where: { !scalars.contains($0) })!
        return String(String.UnicodeScalarView(view[first...last]))
    }
}
