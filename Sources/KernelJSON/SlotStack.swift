/// The tree builder's working stack: finished children of every open container, as object members
/// (array elements use an empty key). Closing a container *moves* its children into the new array
/// with one allocation and no retain/release traffic, which a Swift `Array` stack cannot do (its
/// slicing copies and its `removeLast` releases). A class so `deinit` cleans up after a failed parse.
final class SlotStack {
    typealias Slot = (key: String, value: JSONValue)

    private var slots: UnsafeMutablePointer<Slot>
    private var capacity: Int
    private(set) var count = 0
    /// Start index in `slots` of each open container, innermost last; negative (~start) for objects.
    private var frames: UnsafeMutablePointer<Int>
    private var frameCapacity: Int
    private var frameCount = 0

    init() {
        capacity = 32
        slots = .allocate(capacity: capacity)
        frameCapacity = 8
        frames = .allocate(capacity: frameCapacity)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
        frames.deallocate()
    }

    @inline(__always)
    func beginContainer(isObject: Bool) {
        if frameCount == frameCapacity {
            let bigger = UnsafeMutablePointer<Int>.allocate(capacity: frameCapacity * 2)
            bigger.moveInitialize(from: frames, count: frameCount)
            frames.deallocate()
            frames = bigger
            frameCapacity *= 2
        }
        frames[frameCount] = isObject ? ~count : count
        frameCount += 1
    }

    @inline(__always)
    func push(_ key: String, _ value: JSONValue) {
        if count == capacity { grow() }
        (slots + count).initialize(to: (key, value))
        count += 1
    }

    /// Sets the value of the most recently pushed slot (an object member whose key came first).
    @inline(__always)
    func setLastValue(_ value: JSONValue) {
        slots[count - 1].value = value
    }

    /// True if the innermost open container is an object.
    @inline(__always)
    var inObject: Bool { frames[frameCount - 1] < 0 }

    func endObject() -> [Slot] {
        frameCount -= 1
        let start = ~frames[frameCount]
        let n = count - start
        let members = [Slot](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: slots + start, count: n)
            initialized = n
        }
        count = start
        return members
    }

    func endArray() -> [JSONValue] {
        frameCount -= 1
        let start = frames[frameCount]
        let n = count - start
        let elements = [JSONValue](unsafeUninitializedCapacity: n) { buffer, initialized in
            for i in 0..<n { (buffer.baseAddress! + i).initialize(to: (slots + start + i).move().value) }
            initialized = n
        }
        count = start
        return elements
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<Slot>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: slots, count: count)
        slots.deallocate()
        slots = bigger
        capacity *= 2
    }
}
