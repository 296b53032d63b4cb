#if canImport(Glibc)
import Glibc
#endif
import KernelPlugins

/// Waits for something to happen in the plugins directory: an inotify event about a `*.so`
/// name, a wake-up (`wake()`: SIGHUP, a quarantine, stop) or a timeout (the periodic rescan that
/// covers what inotify cannot see: a directory created later, network filesystems, a full
/// inotify queue). The caller rescans after every return; the watcher only says when.
final class PluginDirectoryWatcher: @unchecked Sendable {
    // @unchecked: `inotify`, `watch` and `directory` are used by the lifecycle thread only; the
    // wake pipe's write end is written from any thread (write(2) on a pipe is thread-safe).
    private var inotify: Int32 = -1
    private var watch: Int32 = -1
    private(set) var directory: String
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(directory: String) {
        self.directory = directory
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        } else {
            fds = [-1, -1]
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        addWatch()
    }

    deinit {
        if inotify >= 0 { close(inotify) }
        close(wakeRead)
        close(wakeWrite)
    }

    /// True while inotify watches the directory (else only the periodic rescan sees changes).
    var isWatching: Bool { watch >= 0 }

    /// Watches another directory (plugins.dir changed on reload).
    func retarget(_ newDirectory: String) {
        if watch >= 0 { _ = inotify_rm_watch(inotify, watch) }
        watch = -1
        directory = newDirectory
        addWatch()
    }

    /// Adds the watch if it is missing (the directory may appear after start-up).
    func addWatch() {
        guard inotify >= 0, watch < 0 else { return }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB
                          | IN_DELETE_SELF | IN_MOVE_SELF)
        watch = inotify_add_watch(inotify, directory, mask)
    }

    /// Makes a pending or the next `wait` return at once. Safe from any thread.
    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Blocks until a relevant inotify event, a wake-up or `timeoutSeconds`; drains what woke it.
    /// Returns true if a `*.so` name in the directory changed.
    @discardableResult
    func wait(timeoutSeconds: Double) -> Bool {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: watch >= 0 ? inotify : -1, events: Int16(POLLIN), revents: 0)]
        let timeout = Int32(max(0, min(timeoutSeconds, 3600)) * 1000)
        let n = poll(&fds, 2, timeout)
        guard n > 0 else { return false }
        var scratch = [UInt8](repeating: 0, count: 4096)
        if fds[0].revents != 0 { while read(wakeRead, &scratch, scratch.count) > 0 {} }
        guard fds[1].revents != 0 else { return false }
        return drainEvents(&scratch)
    }

    /// Reads every queued inotify event; true if one names a plugin file (hidden names, such as
    /// a file being written before its rename and the loader's own snapshots, are ignored).
    private func drainEvents(_ buffer: inout [UInt8]) -> Bool {
        var relevant = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= n {
                let (mask, length) = buffer.withUnsafeBytes { raw in
                    (raw.load(fromByteOffset: offset + 4, as: UInt32.self), Int(raw.load(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + header)..<min(n, offset + header + length)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                if mask & UInt32(IN_Q_OVERFLOW) != 0 || mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                    relevant = true
                } else if name.hasSuffix(".so"), !name.hasPrefix(".") {
                    relevant = true
                }
                offset += header + length
            }
        }
        // The directory itself went away (or moved): drop the watch; `addWatch` retries.
        if relevant, PluginFileIdentity.directoryExists(directory) == false {
            if watch >= 0 { _ = inotify_rm_watch(inotify, watch) }
            watch = -1
        }
        return relevant
    }
}

extension PluginFileIdentity {
    static func directoryExists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
