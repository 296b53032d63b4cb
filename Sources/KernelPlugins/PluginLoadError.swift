/// Why a plugin file was refused. `reasonCode` is the stable token used in logs and metrics;
/// `description` is the one-line human explanation that always names the file.
public struct PluginLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case notFound = "not_found"
        case notRegularFile = "not_regular_file"
        case notSharedObject = "not_shared_object"
        case dlopenFailed = "dlopen_failed"
        case missingEntrySymbol = "missing_entry_symbol"
        case nullDescriptor = "null_descriptor"
        case abiMajorMismatch = "abi_major_mismatch"
        case abiMinorTooNew = "abi_minor_too_new"
        case structTooSmall = "struct_too_small"
        case nullFunction = "null_function"
        case invalidName = "invalid_name"
        case invalidVersion = "invalid_version"
        case invalidFamily = "invalid_family"
        case invalidColumn = "invalid_column"
        case invalidSchema = "invalid_schema"
        case duplicateFamily = "duplicate_family"
        case duplicatePlugin = "duplicate_plugin"
        case initFailed = "init_failed"
        /// A Swift plugin built with another Swift toolchain than the kernel's.
        case toolchainMismatch = "toolchain_mismatch"
        /// The file changed while it was being read (still being copied in place).
        case fileChanging = "file_changing"
        /// A plugin of this name is already active with the same or a higher version.
        case versionNotNewer = "version_not_newer"
        /// The typed table of one of its families could not be created or evolved.
        case familyTableRefused = "family_table_refused"
    }

    public let path: String
    public let reason: Reason
    public let detail: String

    public init(path: String, reason: Reason, detail: String) {
        self.path = path
        self.reason = reason
        self.detail = detail
    }

    public var reasonCode: String { reason.rawValue }

    public var description: String { "plugin \(path) refused (\(reason.rawValue)): \(detail)" }
}
