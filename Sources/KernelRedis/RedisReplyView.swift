import CHiredis
#if canImport(Glibc)
import Glibc
#endif

/// A borrowed, read-only view of one reply, for hot paths that decode a large reply straight into
/// their own types instead of copying it into `RedisReply` first (an XREADGROUP of 100 events is
/// ~900 hiredis objects; copying each into a Swift array doubled the reader's allocations).
///
/// Valid only inside the `decode` closure it was handed to: it may point into hiredis' memory,
/// which is freed when the closure returns. Copy out what you keep.
public struct RedisReplyView {
    enum Storage {
        case raw(UnsafePointer<redisReply>)
        case owned(RedisReply)
    }

    public enum Kind: Sendable { case string, status, error, integer, array, null }

    let storage: Storage

    init(raw: UnsafePointer<redisReply>) { storage = .raw(raw) }
    public init(_ reply: RedisReply) { storage = .owned(reply) }

    public var kind: Kind {
        switch storage {
        case .raw(let r):
            switch r.pointee.type {
            case REDIS_REPLY_STRING: return .string
            case REDIS_REPLY_STATUS: return .status
            case REDIS_REPLY_ERROR: return .error
            case REDIS_REPLY_INTEGER: return .integer
            case REDIS_REPLY_ARRAY: return .array
            default: return .null
            }
        case .owned(let reply):
            switch reply {
            case .string: return .string
            case .status: return .status
            case .error: return .error
            case .integer: return .integer
            case .array: return .array
            case .null: return .null
            }
        }
    }

    /// Elements of an array reply; 0 for any other kind.
    public var count: Int {
        switch storage {
        case .raw(let r): return r.pointee.type == REDIS_REPLY_ARRAY ? Int(r.pointee.elements) : 0
        case .owned(let reply): return reply.array?.count ?? 0
        }
    }

    /// Element `i` of an array reply (`0 ..< count`); a missing element reads as null.
    public subscript(i: Int) -> RedisReplyView {
        switch storage {
        case .raw(let r):
            guard r.pointee.type == REDIS_REPLY_ARRAY, i >= 0, i < Int(r.pointee.elements),
                  let element = r.pointee.element[i] else { return RedisReplyView(.null) }
            return RedisReplyView(raw: UnsafePointer(element))
        case .owned(let reply):
            guard let items = reply.array, i >= 0, i < items.count else { return RedisReplyView(.null) }
            return RedisReplyView(items[i])
        }
    }

    public var integer: Int64? {
        switch storage {
        case .raw(let r): return r.pointee.type == REDIS_REPLY_INTEGER ? r.pointee.integer : nil
        case .owned(let reply): return reply.integer
        }
    }

    /// Calls `body` with the bytes of a string, status or error reply (empty for other kinds).
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        switch storage {
        case .raw(let r):
            switch r.pointee.type {
            case REDIS_REPLY_STRING, REDIS_REPLY_STATUS, REDIS_REPLY_ERROR:
                return try body(UnsafeRawBufferPointer(start: r.pointee.str, count: r.pointee.len))
            default:
                return try body(UnsafeRawBufferPointer(start: nil, count: 0))
            }
        case .owned(let reply):
            switch reply {
            case .string(let bytes): return try bytes.withUnsafeBytes(body)
            case .status(let text), .error(let text):
                var text = text
                return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
            default: return try body(UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }
    }

    /// The bytes, copied.
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// The text of a string or status reply.
    public var text: String? {
        switch kind {
        case .string, .status: return withBytes { String(decoding: $0, as: UTF8.self) }
        default: return nil
        }
    }

    /// True when this is a string reply equal to `literal` (no allocation).
    public func equals(_ literal: StaticString) -> Bool {
        withBytes { bytes in
            bytes.count == literal.utf8CodeUnitCount
                && (bytes.isEmpty || memcmp(bytes.baseAddress!, literal.utf8Start, bytes.count) == 0)
        }
    }

    /// The whole reply, copied (for error messages and slow paths).
    public var copied: RedisReply {
        switch storage {
        case .raw(let r): return RedisConnection.convert(UnsafeMutablePointer(mutating: r))
        case .owned(let reply): return reply
        }
    }
}
