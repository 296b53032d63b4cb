/// A Redis reply, copied out of hiredis' reply object so nothing points into C memory.
public enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    public var text: String? {
        switch self {
        case .string(let b): String(decoding: b, as: UTF8.self)
        case .status(let s): s
        default: nil
        }
    }

    public var integer: Int64? { if case .integer(let v) = self { v } else { nil } }
    public var array: [RedisReply]? { if case .array(let a) = self { a } else { nil } }
}

/// A Redis failure. `kind` separates a lost connection (reconnect and retry) from an error reply
/// (the command itself was refused).
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case connect = "redis_connect"
        case io = "redis_io"
        case reply = "redis_error_reply"
        case protocolError = "redis_protocol"
    }
    public let kind: Kind
    public let message: String
    public init(kind: Kind, message: String) { self.kind = kind; self.message = message }
    public var description: String { "\(kind.rawValue): \(message)" }
    /// True when the connection is unusable and must be reopened.
    public var isConnectionLost: Bool { kind == .connect || kind == .io || kind == .protocolError }
}
