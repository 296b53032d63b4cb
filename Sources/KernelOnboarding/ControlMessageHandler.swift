/// Handles the messages of one control stream (`P` + `streamSuffix`).
///
/// `handle` runs on the stream's consumer thread, one message at a time. Handlers catch their own
/// errors (a bad message must never stop the consumer); the consumer acknowledges every message
/// after `handle` returns, on the stream it came from (docs/protocol.md, "Streams and fields").
public protocol ControlMessageHandler: AnyObject {
    /// The stream name without the key prefix, e.g. `register`, `token:exchange`.
    var streamSuffix: String { get }
    /// Processes one message; never throws.
    func handle(_ message: ControlMessage, context: ControlContext)
}
