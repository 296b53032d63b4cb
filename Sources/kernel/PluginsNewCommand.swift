import ArgumentParser
import KernelPlugins

#if canImport(Glibc)
import Glibc
#endif

extension PluginsCommand {
    /// `kernel plugins new NAME --lang c|swift`: a plugin skeleton outside the repository that
    /// builds, passes its own test and `kernel plugins check` as written.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a plugin skeleton (normalizer, sample payloads, a test, build file, export map).",
            discussion: "The skeleton serves the family NAME with columns symbol, price and size; change it to your feed.")

        enum Language: String, ExpressibleByArgument, CaseIterable { case c, swift }

        @Argument(help: "Plugin and family name: \(Grammar.familyNamePattern).") var name: String
        @Option(help: "c or swift.") var lang: Language
        @Option(help: "Folder to create (default: ./NAME); must not exist or be empty.") var dir: String?
        @Option(help: "The SDK package folder (sdk/ in a kernel clone). Default: $DK_SDK_DIR, else the sdk/ above this kernel binary.")
        var sdk: String?

        func validate() throws {
            guard Grammar.isFamilyName(name) else {
                throw ValidationError("NAME must match \(Grammar.familyNamePattern), got \"\(name)\"")
            }
        }

        func run() throws {
            let target = dir ?? name
            guard let sdkDir = Self.resolveSDK(sdk) else {
                printError("kernel plugins new: no SDK package found: pass --sdk <kernel clone>/sdk (or set DK_SDK_DIR)")
                throw ExitCode(1)
            }
            guard Self.isEmptyOrMissing(target) else {
                printError("kernel plugins new: \(target) exists and is not empty")
                throw ExitCode(1)
            }
            let kernel = Self.realPath("/proc/self/exe") ?? CommandLine.arguments[0]
            let type = name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            let schemaC = PluginTemplates.payloadSchema.replacing("\"", with: "\\\"")
            let values: [(String, String)] = [
                ("__SCHEMA_C__", schemaC), ("__SCHEMA__", PluginTemplates.payloadSchema),
                ("__SDK_ID__", String(sdkDir.split(separator: "/").last ?? "sdk")), ("__SDK__", sdkDir),
                ("__INCLUDE__", sdkDir + "/Sources/KernelPluginABI/include"), ("__KERNEL__", kernel),
                ("__TYPE__", type), ("__NAME__", name),
            ]
            func fill(_ text: String) -> String { values.reduce(text) { $0.replacing($1.0, with: $1.1) } }
            let files = lang == .swift ? PluginTemplates.swift() : PluginTemplates.c()
            for file in files {
                let path = target + "/" + fill(file.path)
                guard Self.makeParents(of: path), Self.write(fill(file.text), to: path) else {
                    printError("kernel plugins new: cannot write \(path): \(String(cString: strerror(errno)))")
                    throw ExitCode(1)
                }
                print("wrote \(path)")
            }
            print("")
            switch lang {
            case .swift:
                print("next: cd \(target) && swift build && swift test")
                print("      \(kernel) plugins check .build/debug/lib\(type)Plugin.so --sample Fixtures/good-example.json")
            case .c:
                print("next: cd \(target) && make && make test")
            }
        }

        /// The SDK folder as an absolute path: the option, else $DK_SDK_DIR, else the first
        /// `sdk/Package.swift` found walking up from this binary (a kernel built in its clone).
        static func resolveSDK(_ option: String?) -> String? {
            if let given = option ?? getenv("DK_SDK_DIR").map({ String(cString: $0) }) {
                return realPath(given).flatMap { isFile($0 + "/Package.swift") ? $0 : nil }
            }
            guard var dir = realPath("/proc/self/exe") else { return nil }
            while let slash = dir.lastIndex(of: "/"), slash > dir.startIndex {
                dir = String(dir[..<slash])
                if isFile(dir + "/sdk/Package.swift") { return dir + "/sdk" }
            }
            return nil
        }

        static func realPath(_ path: String) -> String? {
            guard let resolved = realpath(path, nil) else { return nil }
            defer { free(resolved) }
            return String(cString: resolved)
        }

        static func isFile(_ path: String) -> Bool {
            var st = stat()
            return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        }

        static func isEmptyOrMissing(_ path: String) -> Bool {
            guard let d = opendir(path) else { return errno == ENOENT }
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { return false }
            }
            return true
        }

        /// mkdir -p of the folder holding `path`.
        static func makeParents(of path: String) -> Bool {
            var prefix = ""
            for part in path.split(separator: "/", omittingEmptySubsequences: false).dropLast() {
                prefix += (prefix.isEmpty && !path.hasPrefix("/") ? "" : "/") + part
                if part.isEmpty { continue }
                if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return false }
            }
            return true
        }

        static func write(_ text: String, to path: String) -> Bool {
            guard let f = fopen(path, "wx") else { return false }
            defer { fclose(f) }
            var text = text
            return text.withUTF8 { fwrite($0.baseAddress, 1, $0.count, f) == $0.count }
        }
    }
}
