#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SSHPublicKey {
    /// Largest CA file read (a CA file holds one or a few key lines).
    static let maxConfigFileBytes = 1 << 20

    /// A CA key from a configuration value (`auth.producer_ssh_ca`, `auth.admin_ssh_ca`): either
    /// authorized_keys text or the path of a file holding it. A value with
    /// whitespace is key text, one without is a path.
    ///
    /// Blank lines and `#` comments are skipped; a line may carry a prefix before the key type
    /// (`cert-authority …` options, `@cert-authority host-pattern …`). The first key found is the CA.
    /// Never throws: an unparseable CA must not stop startup, so the caller logs the error and runs
    /// with no CA (every certificate then fails with `wrong_ca`).
    public static func load(configValue: String) -> Result<SSHPublicKey, SSHKeyError> {
        let value = configValue.trimmingSpaces
        guard !value.isEmpty else { return .failure(SSHKeyError(.empty, "no CA key configured")) }
        // Key text always has a space between type and blob; a path (as the example YAML uses) has none.
        if value.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r\n" }) {
            return parseKeyText(value)
        }
        switch readFile(value) {
        case .success(let text): return parseKeyText(text).mapError { SSHKeyError($0.reason, "\(value): \($0.detail)") }
        case .failure(let error): return .failure(error)
        }
    }

    private static func parseKeyText(_ text: String) -> Result<SSHPublicKey, SSHKeyError> {
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = String(rawLine).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let start = firstKeyTypeToken(in: line) else { continue }
            do throws(SSHKeyError) {
                return .success(try parse(authorizedKeysLine: String(line[start...])))
            } catch {
                return .failure(error)
            }
        }
        return .failure(SSHKeyError(.malformed, "no ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa key line found"))
    }

    /// Where the first whitespace-separated token naming a supported key type starts.
    private static func firstKeyTypeToken(in line: String) -> String.Index? {
        var i = line.startIndex
        while i < line.endIndex {
            while i < line.endIndex, line[i] == " " || line[i] == "\t" { i = line.index(after: i) }
            let start = i
            while i < line.endIndex, line[i] != " ", line[i] != "\t", line[i] != "\n" { i = line.index(after: i) }
            if start < i, Algorithm(rawValue: String(line[start..<i])) != nil { return start }
            if i < line.endIndex, line[i] == "\n" { return nil }
        }
        return nil
    }

    private static func readFile(_ path: String) -> Result<String, SSHKeyError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(SSHKeyError(.unreadableFile, "cannot open \(printable(path)): errno \(errno)"))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(SSHKeyError(.unreadableFile, "cannot read \(printable(path)): errno \(errno)"))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            guard bytes.count <= maxConfigFileBytes else {
                return .failure(SSHKeyError(.unreadableFile, "\(printable(path)) is larger than \(maxConfigFileBytes) bytes"))
            }
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
