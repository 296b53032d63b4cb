import ArgumentParser
import KernelConfig
import KernelCore
import KernelLogging
import KernelPlugins

#if canImport(Glibc)
import Glibc
#endif

/// `kernel plugin-host …`: the child a kernel in `plugins.isolation: process` starts for each
/// plugin it calls (`PluginHostProcess`). Not for people: hidden from help, its arguments are
/// file descriptors the kernel set up.
struct PluginHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin-host", abstract: "Serve one plugin's normalize calls for a kernel (internal).",
        shouldDisplay: false)

    @Option(name: .customLong("socket-fd")) var socketFD: Int32
    @Option(name: .customLong("image-fd")) var imageFD: Int32
    @Option(name: .long) var breadcrumb: String
    @Option(name: .long) var capacity: Int = 2048

    func run() throws {
        Self.exitWithParent()
        var logging = KernelConfig.Logging()
        logging.output = .stderr
        let (logger, sink) = try LoggingSetup.bootstrap(logging)
        let status = PluginHostServer.run(socketFD: socketFD, imageFD: imageFD, breadcrumbPath: breadcrumb,
                                          capacity: max(1, capacity), logger: logger)
        sink.flushAndClose()
        if status != 0 { throw ExitCode(status) }
    }

    /// Ends the child when the kernel is gone: its socket closes too, but a child stuck in an
    /// endless loop inside the plugin never reads it again.
    static func exitWithParent() {
        let parent = getppid()
        DedicatedThread.start(name: "dk-host-parent") {
            while getppid() == parent { sleepMs(200) }
            _exit(0)
        }
    }
}
