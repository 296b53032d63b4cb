/// Which kernel this is: what `kernel --version` prints and `kernel_build_info` exposes.
public enum KernelVersion {
    /// The release's semantic version. Raised when a release is cut (CONTRIBUTING.md): the
    /// major for an incompatible change of the plugin ABI, the config or the wire protocol.
    public static let version = "1.0.0"

    /// The git commit built: 12 hex digits, with `-dirty` when the tree had uncommitted changes,
    /// or `unknown` when built outside a git checkout. Written before each build by
    /// `BuildTools/GitCommit`.
    public static let commit = gitCommit

    /// `1.0.0 (commit 0123456789ab)`.
    public static var description: String { "\(version) (commit \(commit))" }
}
