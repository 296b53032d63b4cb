/// What a cluster node's error reply asks the client to do. The text comes from the network:
/// parsing never traps, anything malformed is a `.protocolError`.
enum ClusterRedirect: Equatable {
    /// `-MOVED slot host:port`: the slot lives there now; update the map.
    case moved(slot: Int, to: RedisConnection.Endpoint)
    /// `-ASK slot host:port`: this one command (after ASKING) goes there; the map is unchanged.
    case ask(slot: Int, to: RedisConnection.Endpoint)
    /// `-TRYAGAIN …` (a multi-key command during a migration) or `-CLUSTERDOWN …`: wait, retry.
    case tryAgain
    case clusterDown

    /// Classifies an error reply; nil when it is an ordinary error for the caller.
    /// `askedHost` replaces an empty host ("the node you asked", as Redis 7 may send).
    static func parse(_ message: String, askedHost: String) throws(RedisError) -> ClusterRedirect? {
        let words = message.split(separator: " ", omittingEmptySubsequences: true)
        guard let head = words.first else { return nil }
        switch head {
        case "TRYAGAIN": return .tryAgain
        case "CLUSTERDOWN": return .clusterDown
        case "MOVED", "ASK": break
        default: return nil
        }
        guard words.count == 3 else { throw malformed(message) }
        guard isDigits(words[1]), words[1].utf8.count <= 5, let slot = Int(words[1]), (0..<ClusterSlot.count).contains(slot) else {
            throw malformed(message)
        }
        guard let endpoint = endpoint(String(words[2]), askedHost: askedHost) else { throw malformed(message) }
        return head == "MOVED" ? .moved(slot: slot, to: endpoint) : .ask(slot: slot, to: endpoint)
    }

    /// "host:port", split at the last colon (an IPv6 host keeps its colons; "[::1]:7000" is
    /// accepted too). An empty host means `askedHost`.
    static func endpoint(_ text: String, askedHost: String) -> RedisConnection.Endpoint? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = askedHost }
        guard !host.isEmpty, !host.contains(" "), !host.contains("["), !host.contains("]"), !host.utf8.contains(0),
              isDigits(portText), portText.utf8.count <= 5, let port = Int32(portText), (1...65535).contains(port)
        else { return nil }
        return RedisConnection.Endpoint(host: host, port: port)
    }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func malformed(_ message: String) -> RedisError {
        RedisError(kind: .protocolError, message: "malformed cluster redirection: \(message.prefix(120))")
    }
}
