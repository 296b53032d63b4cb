#if canImport(Glibc)
import Glibc
#endif

/// A record of which plugin call each processor thread is making, kept in a memory-mapped file so
/// it outlives the process (docs/plugins.md, "When a plugin crashes or hangs").
///
/// Before a plugin call the processor writes the entries it is handing over and the plugin's name
/// into its slot, then marks the slot busy; after the call it marks it idle. Each of those is a
/// store into shared file pages: no system call on the hot path. When the process dies during a
/// call (a signal in the plugin, an endless loop ended by the watchdog, an OOM kill), the pages
/// still say which entry the call was about, and the next start charges a strike to that entry
/// alone, instead of to every entry that happened to be pending.
///
/// File layout (native endianness; the file never leaves the machine):
/// ```
/// header (64 bytes): magic u32 | layout u32 | slots u32 | capacity u32 | running u32 | pid i32 | …
/// slot × slots:      busy u32 | index u32 | count u32 | cause u32 | tid i32 | pad u32
///                    | started_ns i64 | plugin[64] | version[32] | family[64] | refs[capacity × 64]
/// ```
/// `running` is 1 from start-up until a clean stop, so a start that finds it set knows the
/// previous process died. `cause` is the signal number a fault handler wrote, or `causeHang`.
public final class CallBreadcrumb: @unchecked Sendable {
    // @unchecked: each slot is written by one processor thread only; the header by start-up and
    // stop; the signal handler and the watchdog only read, or write a slot's `cause`.

    static let magic: UInt32 = 0x4443_4B42   // "BKCD"
    static let layoutVersion: UInt32 = 1
    static let headerBytes = 64
    static let slotHeaderBytes = 192
    /// Bytes per recorded entry reference (`<shard>/<ms>-<seq>` is at most 46).
    public static let refBytes = 64
    /// `cause` written by the hang watchdog before it ends the process.
    public static let causeHang: UInt32 = 0xFFFF

    public let path: String
    public let slotCount: Int
    /// Entries one slot can name: a plugin call never covers more (the processor splits groups).
    public let capacity: Int
    let base: UnsafeMutableRawPointer
    let length: Int

    /// Opens (creating or resizing) the breadcrumb file. Reading what the previous process left
    /// (`lastCrash`) must happen before `begin()`.
    public init(path: String, slots: Int, capacity: Int = 2048) throws(BreadcrumbError) {
        self.path = path
        slotCount = max(1, slots)
        self.capacity = max(1, capacity)
        length = Self.headerBytes + slotCount * (Self.slotHeaderBytes + self.capacity * Self.refBytes)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BreadcrumbError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BreadcrumbError(path: path, operation: "fstat", errno: errno) }
        let previous = Int(st.st_size)
        if previous < length, ftruncate(fd, off_t(length)) != 0 {
            throw BreadcrumbError(path: path, operation: "ftruncate", errno: errno)
        }
        let mapped = max(previous, length)
        guard let p = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw BreadcrumbError(path: path, operation: "mmap", errno: errno)
        }
        base = p
        mappedLength = mapped
        previousLength = previous
    }

    private let mappedLength: Int
    private let previousLength: Int

    deinit { munmap(base, mappedLength) }

    // MARK: header

    private func u32(_ offset: Int) -> UnsafeMutablePointer<UInt32> {
        (base + offset).assumingMemoryBound(to: UInt32.self)
    }

    private func slotBase(_ slot: Int) -> UnsafeMutableRawPointer {
        base + Self.headerBytes + slot * (Self.slotHeaderBytes + capacity * Self.refBytes)
    }

    /// What the previous process left: nil when the file is new, of another layout, or the
    /// previous process stopped cleanly.
    public func lastCrash() -> CrashRecord? {
        guard previousLength >= Self.headerBytes, u32(0).pointee == Self.magic, u32(4).pointee == Self.layoutVersion else {
            return nil
        }
        guard u32(16).pointee == 1 else { return nil }   // stopped cleanly
        let slots = Int(u32(8).pointee), cap = Int(u32(12).pointee)
        let pid = (base + 20).load(as: Int32.self)
        // Counts from a file: bounded before any arithmetic (a damaged file must not trap).
        guard (1...4096).contains(slots), (1...(1 << 20)).contains(cap) else { return CrashRecord(pid: pid, calls: []) }
        let slotStride = Self.slotHeaderBytes + cap * Self.refBytes
        guard Self.headerBytes + slots * slotStride <= previousLength else {
            return CrashRecord(pid: pid, calls: [])
        }
        var calls: [CrashRecord.Call] = []
        for s in 0..<slots {
            let slot = base + Self.headerBytes + s * slotStride
            guard slot.load(as: UInt32.self) == 1 else { continue }
            let index = (slot + 4).load(as: UInt32.self)
            let count = min(Int((slot + 8).load(as: UInt32.self)), cap)
            let cause = (slot + 12).load(as: UInt32.self)
            var refs: [String] = []
            if index != UInt32.max, Int(index) < count {
                refs = [Self.readText(slot + Self.slotHeaderBytes + Int(index) * Self.refBytes, max: Self.refBytes)]
            } else {
                for i in 0..<count { refs.append(Self.readText(slot + Self.slotHeaderBytes + i * Self.refBytes, max: Self.refBytes)) }
            }
            refs.removeAll { $0.isEmpty }
            calls.append(CrashRecord.Call(
                plugin: Self.readText(slot + 32, max: 64), version: Self.readText(slot + 96, max: 32),
                family: Self.readText(slot + 128, max: 64), refs: refs, singleCall: index != UInt32.max,
                signal: cause == 0 || cause == Self.causeHang ? nil : Int32(cause), hang: cause == Self.causeHang))
        }
        return CrashRecord(pid: pid, calls: calls)
    }

    /// Marks the file as this process's: every slot idle, `running` set until `end()`.
    public func begin() {
        memset(base, 0, length)
        u32(0).pointee = Self.magic
        u32(4).pointee = Self.layoutVersion
        u32(8).pointee = UInt32(slotCount)
        u32(12).pointee = UInt32(capacity)
        (base + 20).storeBytes(of: getpid(), as: Int32.self)
        u32(16).pointee = 1
        msync(base, Self.headerBytes, MS_SYNC)
        CrashSignals.register(self)
    }

    /// Stops the fault handler from using this file but leaves it as it is, as a process that
    /// died would (tests of what the next start reads).
    public func forgetWithoutStopping() { CrashSignals.unregister(self) }

    /// A clean stop: the next start finds nothing to charge.
    public func end() {
        CrashSignals.unregister(self)
        u32(16).pointee = 0
        msync(base, Self.headerBytes, MS_SYNC)
    }

    // MARK: slots

    /// Slot `index`, for the calling processor thread (which it claims: its thread id is what
    /// the fault handler matches).
    public func slot(_ index: Int) -> Slot {
        precondition(index >= 0 && index < slotCount, "breadcrumb slot \(index) of \(slotCount)")
        let s = Slot(base: slotBase(index), capacity: capacity)
        s.claimForCurrentThread()
        return s
    }

    /// Every slot that is in a call now: for the hang watchdog.
    public func busyCalls(nowNanos: Int64) -> [(slot: Slot, elapsedNanos: Int64)] {
        (0..<slotCount).compactMap { i in
            let s = Slot(base: slotBase(i), capacity: capacity)
            guard s.isBusy else { return nil }
            return (s, nowNanos - s.startedNanos)
        }
    }

    /// For the fault handler: the slot whose thread id is `tid`, if it is in a call.
    func busySlot(tid: Int32) -> UnsafeMutableRawPointer? {
        for i in 0..<slotCount {
            let s = slotBase(i)
            if (s + 16).load(as: Int32.self) == tid && s.load(as: UInt32.self) == 1 { return s }
        }
        return nil
    }

    static func readText(_ p: UnsafeRawPointer, max: Int) -> String {
        let bytes = UnsafeRawBufferPointer(start: p, count: max)
        let end = bytes.firstIndex(of: 0) ?? max
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// One processor thread's record. A value over the mapped file: copies name the same memory.
    public struct Slot: @unchecked Sendable {
        // @unchecked: a view on memory owned by the breadcrumb; written by one thread.
        let base: UnsafeMutableRawPointer
        public let capacity: Int
        private var refs: UnsafeMutableRawPointer { base + CallBreadcrumb.slotHeaderBytes }

        func claimForCurrentThread() { (base + 16).storeBytes(of: CrashSignals.currentThreadID(), as: Int32.self) }

        /// Names the plugin and the entries of the call about to be made (at most `capacity`).
        public func prepare(plugin: String, version: String, family: String, refs entries: some Sequence<String>) {
            Self.writeText(plugin, to: base + 32, max: 64)
            Self.writeText(version, to: base + 96, max: 32)
            Self.writeText(family, to: base + 128, max: 64)
            var n = 0
            for ref in entries where n < capacity {
                Self.writeText(ref, to: refs + n * CallBreadcrumb.refBytes, max: CallBreadcrumb.refBytes)
                n += 1
            }
            (base + 8).storeBytes(of: UInt32(n), as: UInt32.self)
            (base + 12).storeBytes(of: UInt32(0), as: UInt32.self)
        }

        /// Marks the start of a call covering the prepared entry at `index`, or all of them (nil).
        @inline(__always)
        public func enter(index: Int?, startedNanos: Int64) {
            (base + 4).storeBytes(of: index.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.max, as: UInt32.self)
            (base + 24).storeBytes(of: startedNanos, as: Int64.self)
            base.storeBytes(of: UInt32(1), as: UInt32.self)
        }

        @inline(__always)
        public func leave() { base.storeBytes(of: UInt32(0), as: UInt32.self) }

        public var isBusy: Bool { base.load(as: UInt32.self) == 1 }
        public var startedNanos: Int64 { (base + 24).load(as: Int64.self) }
        public var plugin: String { CallBreadcrumb.readText(base + 32, max: 64) }
        public var version: String { CallBreadcrumb.readText(base + 96, max: 32) }
        public var family: String { CallBreadcrumb.readText(base + 128, max: 64) }
        /// The entry of the call in progress (nil for a batch call: several).
        public var currentRef: String? {
            let index = (base + 4).load(as: UInt32.self)
            let count = (base + 8).load(as: UInt32.self)
            guard index != UInt32.max, index < count else { return nil }
            return CallBreadcrumb.readText(refs + Int(index) * CallBreadcrumb.refBytes, max: CallBreadcrumb.refBytes)
        }

        /// Written by the watchdog just before it ends the process.
        public func markHang() { (base + 12).storeBytes(of: CallBreadcrumb.causeHang, as: UInt32.self) }

        static func writeText(_ text: String, to p: UnsafeMutableRawPointer, max: Int) {
            var n = 0
            for byte in text.utf8 where n < max - 1 {
                (p + n).storeBytes(of: byte, as: UInt8.self)
                n += 1
            }
            (p + n).storeBytes(of: 0, as: UInt8.self)
        }
    }
}

/// What the breadcrumb said about the process that died.
public struct CrashRecord: Sendable, Equatable {
    public struct Call: Sendable, Equatable {
        public var plugin: String
        public var version: String
        public var family: String
        /// The entry the call was about (one), or every entry of a batch call.
        public var refs: [String]
        /// True when the call covered one entry: that entry is the culprit. A batch call only
        /// makes its entries suspects, to be retried one call each.
        public var singleCall: Bool
        /// The fatal signal, when a fault handler saw it.
        public var signal: Int32?
        /// True when the hang watchdog ended the process during this call.
        public var hang: Bool

        public var cause: String {
            if hang { return "hang (watchdog)" }
            guard let signal else { return "process died during the call (no signal seen: killed?)" }
            return "signal \(CrashSignals.name(signal))"
        }
    }

    /// The process that died.
    public var pid: Int32
    /// Calls in progress when it died (empty: it died outside any plugin call).
    public var calls: [Call]
}

public struct BreadcrumbError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32
    public var description: String { "\(path): \(operation): \(String(cString: strerror(errno)))" }
}
