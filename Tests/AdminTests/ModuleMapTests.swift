import Foundation
import KernelTestSupport
import Testing

/// The module map stays true: every source module's `import`s of the project's own modules are
/// exactly the dependencies Package.swift declares for it (nothing used undeclared, nothing
/// declared unused), and docs/architecture.md's module table lists every module with those
/// dependencies. Read from the files, so a new import, dependency or module that the others do
/// not reflect fails CI.
@Suite("Module map")
struct ModuleMapTests {
    static let root = Repository.root.path

    /// Package.swift's targets under Sources: name → the project's modules it depends on.
    static func declared() throws -> [String: Set<String>] {
        let manifest = try String(contentsOfFile: root + "/Package.swift", encoding: .utf8)
        var targets: [String: Set<String>] = [:]
        let pattern = try NSRegularExpression(
            pattern: #"\.(?:target|executableTarget)\(name: "([A-Za-z-]+)"(?:, dependencies: \[(.*?)\])?"#,
            options: [.dotMatchesLineSeparators])
        let text = manifest as NSString
        for match in pattern.matches(in: manifest, range: NSRange(location: 0, length: text.length)) {
            let name = text.substring(with: match.range(at: 1))
            var dependencies: Set<String> = []
            if match.range(at: 2).location != NSNotFound {
                let list = text.substring(with: match.range(at: 2))
                for dependency in strings(in: list) where isOwn(dependency) { dependencies.insert(dependency) }
            }
            targets[name] = dependencies
        }
        return targets
    }

    /// The project's own modules (the C shims included), as opposed to packages.
    static func isOwn(_ module: String) -> Bool {
        module.hasPrefix("Kernel") || ["CHiredis", "CLibPQ", "COpenSSL"].contains(module)
    }

    static func strings(in text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "\"") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "\"") else { break }
            out.append(String(after[..<close]))
            rest = after[after.index(after: close)...]
        }
        return out
    }

    /// The project's modules imported by any file of `Sources/<module>`.
    static func imports(of module: String) throws -> Set<String>? {
        let base = root + "/Sources/" + module
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        guard let files = FileManager.default.enumerator(atPath: base)?.compactMap({ $0 as? String }) else { return nil }
        var found: Set<String> = []
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: base + "/" + file, encoding: .utf8)
            // Top-level imports only: an indented `import` is text (the plugin templates hold some).
            for line in text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@") {
                var words = line.split(separator: " ")
                while let first = words.first, first.hasPrefix("@") { words.removeFirst() }
                guard words.count >= 2, words[0] == "import" else { continue }
                let name = String(words[1])
                if isOwn(name) { found.insert(name) }
            }
        }
        return found
    }

    @Test("every module imports exactly the project modules Package.swift declares for it")
    func importsMatchTheManifest() throws {
        let targets = try Self.declared()
        #expect(targets.count > 20, "found the targets: \(targets.keys.sorted())")
        var checked = 0
        for (module, dependencies) in targets.sorted(by: { $0.key < $1.key }) {
            guard let imported = try Self.imports(of: module) else { continue }
            checked += 1
            let undeclared = imported.subtracting(dependencies).subtracting([module])
            let unused = dependencies.subtracting(imported)
            #expect(undeclared.isEmpty, "\(module) imports \(undeclared.sorted()) without declaring them in Package.swift")
            #expect(unused.isEmpty, "\(module) declares \(unused.sorted()) in Package.swift but never imports them")
        }
        #expect(checked > 15)
    }

    @Test("docs/architecture.md's module table lists every module under Sources with its declared dependencies")
    func tableMatchesTheManifest() throws {
        let targets = try Self.declared()
        let doc = try String(contentsOfFile: Self.root + "/docs/architecture.md", encoding: .utf8)
        var rows: [String: Set<String>] = [:]
        for line in doc.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            let module = cells[1].replacingOccurrences(of: "`", with: "").split(separator: " ").first.map(String.init) ?? ""
            guard targets[module] != nil else { continue }
            // "Runtime, SSH, Auth" → the Kernel modules; OpenSSL/libpq/hiredis → the C shims.
            let named = cells[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            var dependencies: Set<String> = []
            for name in named {
                switch name {
                case "OpenSSL": dependencies.insert("COpenSSL")
                case "libpq": dependencies.insert("CLibPQ")
                case "hiredis": dependencies.insert("CHiredis")
                case "ABI": dependencies.insert("KernelPluginABI")
                default:
                    if let first = name.first, first.isUppercase, !name.contains(" "), !name.contains("-"),
                       name != "Yams", name != "Hummingbird", name != "ArgumentParser" {
                        dependencies.insert("Kernel" + name)
                    }
                }
            }
            rows[module] = dependencies
        }
        for (module, dependencies) in targets where FileManager.default.fileExists(atPath: Self.root + "/Sources/" + module)
            && !module.hasPrefix("C") {
            guard let row = rows[module] else {
                Issue.record("docs/architecture.md's module table has no row for \(module)")
                continue
            }
            #expect(row == dependencies, "\(module): the table says \(row.sorted()), Package.swift \(dependencies.sorted())")
        }
    }
}
