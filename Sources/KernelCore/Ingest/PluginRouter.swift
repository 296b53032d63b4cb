import KernelPlugins
import Synchronization

/// The plugin registry the pipeline routes through. Swapped as a whole (plugin hot add/upgrade),
/// read once per chunk, so a switch takes effect at a batch boundary.
public final class PluginRouter: Sendable {
    private let current: Mutex<PluginRegistry>

    public init(_ registry: PluginRegistry) { current = Mutex(registry) }

    public var registry: PluginRegistry { current.withLock { $0 } }

    public func replace(_ registry: PluginRegistry) { current.withLock { $0 = registry } }
}
