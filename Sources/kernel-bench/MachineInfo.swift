import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the numbers were measured on: commit, cores, memory, CPU model, kernel.
enum MachineInfo {
    static func summary(repoRoot: String) -> String {
        var commit = Shell.output("/usr/bin/git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"]) ?? "unknown"
        if let status = Shell.output("/usr/bin/git", ["-C", repoRoot, "status", "--porcelain", "--untracked-files=no"]), !status.isEmpty {
            commit += " + uncommitted changes"
        }
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let memInfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let memKB = memInfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown CPU"
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "commit \(commit); \(cores) cores (\(model)); \(Fmt.fixed(Double(memKB) / 1_048_576, 1)) GiB RAM; Linux \(release)"
    }
}
