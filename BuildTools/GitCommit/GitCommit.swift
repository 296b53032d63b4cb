import Foundation
import PackagePlugin

/// Writes `GitCommit.swift` into the KernelVersion module before every build: the commit the
/// binary is built from, so `kernel --version` and `kernel_build_info` can name it. A prebuild
/// command (not a build command) because its input, the repository's HEAD, is not a file the
/// build system can track. The file is rewritten only when the commit changes, so an unchanged
/// tree does not recompile anything.
@main
struct GitCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        return [.prebuildCommand(
            displayName: "Recording the git commit for \(target.name)",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", Self.script, "git-commit", context.package.directoryURL.path, output.path],
            outputFilesDirectory: output)]
    }

    /// `$1` the package directory, `$2` the output directory. Outside a git checkout (a source
    /// archive) or without git the commit is "unknown"; uncommitted changes add "-dirty".
    static let script = #"""
        PATH=/usr/local/bin:/usr/bin:/bin:$PATH
        mkdir -p "$2"
        commit=$(git -C "$1" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
        if [ "$commit" != unknown ] && ! git -C "$1" diff --quiet HEAD -- 2>/dev/null; then commit="$commit-dirty"; fi
        printf '// Generated before each build by BuildTools/GitCommit.\nlet gitCommit = "%s"\n' "$commit" > "$2/GitCommit.swift.new"
        if cmp -s "$2/GitCommit.swift.new" "$2/GitCommit.swift"; then rm -f "$2/GitCommit.swift.new"
        else mv -f "$2/GitCommit.swift.new" "$2/GitCommit.swift"; fi
        """#
}
