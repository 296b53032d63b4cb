import KernelPluginABI

/// The Swift copy of a plugin's descriptor, taken once at load time after validation.
/// Nothing here points into the plugin's memory, so it can be printed, compared and sent freely.
public struct PluginDescriptor: Sendable, Equatable {
    public var abiMajor: UInt32
    public var abiMinor: UInt32
    public var structSize: UInt32
    public var threadSafe: Bool
    public var name: String
    public var version: SemanticVersion
    public var buildInfo: String
    public var families: [FamilyDescriptor]
    public var hasBatchNormalize: Bool
}
