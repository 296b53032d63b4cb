#if canImport(Glibc)
import Glibc
#endif

/// One plugin-host child: the same `kernel` binary started as `kernel plugin-host`, serving one
/// plugin instance's normalize calls over a socket (`PluginHostProtocol`). Owned and called by one
/// processor thread; calls block that thread only.
///
/// The child keeps a one-slot crash breadcrumb (`CallBreadcrumb`, a file in `/dev/shm`) naming
/// the position of the event its plugin call is about. When the child dies (a signal in the
/// plugin) or is killed (a call past `hangTimeoutNanos` on the wall clock), the kernel reads that
/// file and learns which event was the culprit, without ever having run the plugin itself.
public final class PluginHostProcess: @unchecked Sendable {
    // @unchecked: used by the one processor thread that spawned it.

    /// How a normalize call ended.
    public enum Outcome {
        case done(results: [Result<NormalizedEvent, NormalizeFailure>], timing: CallTiming)
        /// The child died or was killed during the call; it is reaped and this object is dead.
        case died(ChildDeath)
    }

    /// What the child's breadcrumb and exit status said.
    public struct ChildDeath: Sendable {
        /// Positions (in the request) of the events the fatal call was about: one for a single
        /// call (the culprit), all of a `normalize_batch` call (suspects), or empty when the child
        /// died outside any plugin call.
        public var positions: [Int]
        /// True when `positions` names one culprit.
        public var singleCall: Bool
        /// `signal SIGSEGV`, `hang (killed after plugins.hang_timeout_ms 1500 ms)`, `exit status 3`.
        public var cause: String
    }

    /// The binary started as `kernel plugin-host`: the running kernel's own. Tests that run a
    /// `Daemon` inside the test process point it at the built `kernel` (set before any spawn).
    nonisolated(unsafe) public static var executablePath = "/proc/self/exe"

    public let instance: PluginInstance
    public let pid: pid_t
    private let fd: Int32
    private let crumbPath: String
    /// The kernel's view of the child's breadcrumb, for the hang check.
    private let crumb: CallBreadcrumb
    private let hangTimeoutNanos: Int64
    /// Largest request: the child's breadcrumb slot holds this many positions.
    public let capacity: Int
    private var writer = ByteWriter(capacity: 1 << 20)
    private var readBuffer = [UInt8](repeating: 0, count: 1 << 20)
    private var alive = true

    private init(instance: PluginInstance, pid: pid_t, fd: Int32, crumbPath: String, crumb: CallBreadcrumb,
                 hangTimeoutNanos: Int64, capacity: Int) {
        self.instance = instance
        self.pid = pid
        self.fd = fd
        self.crumbPath = crumbPath
        self.crumb = crumb
        self.hangTimeoutNanos = hangTimeoutNanos
        self.capacity = capacity
    }

    deinit { terminate() }

    /// Starts a child for `instance` and waits until it has loaded and initialised the plugin.
    /// The child maps the very file the kernel loaded (`LoadedPlugin.imageFD`), so it runs the
    /// same version even if the file in `plugins.dir` was replaced since.
    public static func spawn(instance: PluginInstance, hangTimeoutNanos: Int64, capacity: Int = 2048)
        throws(PluginHostError) -> PluginHostProcess
    {
        let plugin = instance.plugin
        guard let image = plugin.imageFD else { throw .spawn("no open image of \(plugin.path)") }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .io("socketpair", errno)
        }
        let (mine, theirs) = (pair[0], pair[1])
        // Room for a whole batch each way, so a request is one write and one wake-up.
        var size: Int32 = 4 << 20
        for s in [mine, theirs] {
            setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let crumbPath = Self.crumbPath()
        let crumb: CallBreadcrumb
        do { crumb = try CallBreadcrumb(path: crumbPath, slots: 1, capacity: capacity) } catch {
            close(mine); close(theirs)
            throw .spawn("breadcrumb: \(error)")
        }
        // dup2 onto 3 and 4 in the child: first move both well above, so neither source is
        // already 3 or 4 (a dup2 onto itself would keep FD_CLOEXEC and the child would lose it).
        let socketHigh = fcntl(theirs, F_DUPFD_CLOEXEC, 64), imageHigh = fcntl(image, F_DUPFD_CLOEXEC, 64)
        close(theirs)
        defer { close(socketHigh); close(imageHigh) }
        let args = ["kernel", "plugin-host", "--socket-fd", "3", "--image-fd", "4", "--breadcrumb", crumbPath,
                    "--capacity", String(capacity)]
        var pid: pid_t = 0
        let status: Int32 = withCStrings(args) { argv in
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, socketHigh, 3)
            posix_spawn_file_actions_adddup2(&actions, imageHigh, 4)
            var attr = posix_spawnattr_t()
            posix_spawnattr_init(&attr)
            defer { posix_spawnattr_destroy(&attr) }
            // Its own process group: a terminal's Ctrl-C goes to the kernel, which drains and
            // then ends its children, instead of killing a child in the middle of a batch.
            // Signals unblocked and at their defaults, whatever the spawning thread had.
            var empty = sigset_t(), all = sigset_t()
            sigemptyset(&empty)
            sigfillset(&all)
            posix_spawnattr_setsigmask(&attr, &empty)
            posix_spawnattr_setsigdefault(&attr, &all)
            posix_spawnattr_setpgroup(&attr, 0)
            posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            return posix_spawn(&pid, executablePath, &actions, &attr, argv, environ)
        }
        guard status == 0 else {
            close(mine)
            unlink(crumbPath)
            throw .spawn("posix_spawn \(executablePath): \(String(cString: strerror(status)))")
        }
        let host = PluginHostProcess(instance: instance, pid: pid, fd: mine, crumbPath: crumbPath, crumb: crumb,
                                     hangTimeoutNanos: hangTimeoutNanos, capacity: capacity)
        try host.handshake()
        return host
    }

    private func handshake() throws(PluginHostError) {
        let d = instance.descriptor
        writer.reset()
        writer.u8(PluginHostProtocol.hello)
        writer.string(instance.configJSON)
        writer.string(d.name)
        writer.string(d.version.description)
        do {
            try PluginHostProtocol.send(&writer, fd: fd)
            guard try PluginHostProtocol.receive(fd: fd, into: &readBuffer) else { throw PluginHostError.io("read", ECONNRESET) }
        } catch {
            terminate()
            throw .load("the child ended before it was ready (\(error)); its stderr says why")
        }
        let answer: Result<Void, PluginHostError>
        do throws(PluginHostError) {
            answer = try PluginHostProtocol.reading(readBuffer) { r throws(PluginHostError) in
                guard try r.u8() == PluginHostProtocol.hello else { return .failure(.protocolViolation("expected ready")) }
                let ok = try r.u8() == 1
                let message = try r.string()
                return ok ? .success(()) : .failure(.load(message))
            }
        } catch {
            answer = .failure(error)
        }
        if case .failure(let error) = answer {
            terminate()
            throw error
        }
    }

    /// Sends one batch of one family's events and waits for the results, killing the child if a
    /// single plugin call in it runs past the hang bound.
    public func normalize(_ events: [EventInput], budgetNanos: Int64) -> Outcome {
        precondition(alive, "normalize on a dead plugin host")
        precondition(events.count <= capacity, "a plugin-host request holds at most \(capacity) events")
        writer.reset()
        PluginHostProtocol.encodeRequest(events, budgetNanos: budgetNanos, into: &writer)
        do {
            try PluginHostProtocol.send(&writer, fd: fd)
            try waitReadable()
            guard try PluginHostProtocol.receive(fd: fd, into: &readBuffer) else { return .died(reap()) }
        } catch {
            return .died(reap())
        }
        let decoded: Result<([Result<NormalizedEvent, NormalizeFailure>], CallTiming), PluginHostError>
        do throws(PluginHostError) {
            decoded = .success(try PluginHostProtocol.reading(readBuffer) { r throws(PluginHostError) in
                try PluginHostProtocol.decodeResults(&r, expected: events.count)
            })
        } catch {
            decoded = .failure(error)
        }
        switch decoded {
        case .success(let (results, timing)): return .done(results: results, timing: timing)
        case .failure:
            // A child that answers garbage is not trusted with another call.
            kill(pid, SIGKILL)
            return .died(reap())
        }
    }

    /// Polls until the answer is readable; every 50 ms (or sooner, as the bound nears) looks at
    /// the child's breadcrumb, and kills a child whose current call is past the hang bound.
    private func waitReadable() throws(PluginHostError) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let n = poll(&p, 1, 50)
            if n > 0 { return }
            if n < 0 && errno != EINTR { throw .io("poll", errno) }
            for (slot, elapsed) in crumb.busyCalls(nowNanos: CallTiming.wallNow()) where elapsed > hangTimeoutNanos {
                slot.markHang()
                kill(pid, SIGKILL)
                throw .io("hang", ETIMEDOUT)
            }
        }
    }

    /// Waits for the dead child and reads its breadcrumb.
    private func reap() -> ChildDeath {
        alive = false
        close(fd)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        defer { unlink(crumbPath) }
        // A fresh mapping: `lastCrash` reads what the file held when it was opened.
        let record = (try? CallBreadcrumb(path: crumbPath, slots: 1, capacity: capacity))?.lastCrash()
        let call = record?.calls.first
        let positions = call?.refs.compactMap { Int($0) } ?? []
        let cause: String
        if call?.hang == true {
            cause = "hang (killed after plugins.hang_timeout_ms \(hangTimeoutNanos / 1_000_000) ms)"
        } else if let signal = call?.signal {
            cause = "signal \(CrashSignals.name(signal))"
        } else if status & 0x7F != 0 {
            cause = "signal \(CrashSignals.name(status & 0x7F))"
        } else {
            cause = "exit status \((status >> 8) & 0xFF)"
        }
        return ChildDeath(positions: positions, singleCall: call?.singleCall == true && positions.count == 1, cause: cause)
    }

    /// Ends the child: closing the socket is its signal to finish (`destroy` runs there); one that
    /// has not exited within a second is killed.
    public func terminate() {
        guard alive else { return }
        alive = false
        close(fd)
        var status: Int32 = 0
        for _ in 0..<100 {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno != EINTR) { unlink(crumbPath); return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        unlink(crumbPath)
    }

    private static func crumbPath() -> String {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
        var template = Array("\(directory)/dk-plugin-host-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 { close(fd) }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// `argv` for posix_spawn: NUL-terminated copies, freed after `body`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
