/// What a plugin tells the host about itself; becomes the C `kp_plugin_descriptor`.
public struct PluginInfo: Sendable {
    /// Plugin name, `[a-z][a-z0-9_.-]{0,63}`.
    public var name: String
    /// Semantic version `MAJOR.MINOR.PATCH`; a newer version replaces an older one on upgrade.
    public var version: String
    /// Who built the plugin with what; defaults to the Swift toolchain (`BuildInfo.toolchain`).
    public var buildInfo: String
    /// True when `normalize` may run concurrently on one instance (`KP_PLUGIN_THREAD_SAFE`):
    /// claim it only if the normalizer keeps no mutable state, or guards it.
    public var threadSafe: Bool
    /// The families served, at least one.
    public var families: [FamilySpec]

    public init(
        name: String,
        version: String,
        buildInfo: String = BuildInfo.toolchain,
        threadSafe: Bool = false,
        families: [FamilySpec]
    ) {
        self.name = name
        self.version = version
        self.buildInfo = buildInfo
        self.threadSafe = threadSafe
        self.families = families
    }
}
