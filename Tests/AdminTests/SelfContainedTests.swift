import Foundation
import KernelTestSupport
import Testing

/// The repository is self-contained: the contract lives in docs/, and the code points there.
/// Two checks over the text of the repository:
/// - no file cites the documents the project started from, which are not in the repository;
/// - every `docs/<file>.md, "<Heading>"` pointer in the code names a heading (or a bold paragraph
///   lead) that exists in that doc, so pointers stay honest when docs are edited.
/// `migrations/` is left out of the first check: applied migrations are immutable (their checksums
/// are recorded), so their comments stay as written (docs/architecture.md, "Data model").
@Suite("Self-contained repository")
struct SelfContainedTests {
    static let root = Repository.root.path

    /// Built by concatenation so that this file does not cite them itself.
    static let needles = [
        "the documentation" + " §", "the documentation" + ".md", "DESIGN" + ".md", "docs/platform-notes.md" + ".md", ".." + "/shared",
    ]

    /// Folders and files scanned, relative to the root.
    static let scanned = ["Sources", "Tests", "Plugins", "docs", "config", ".ci", "examples",
                          "Makefile", "README.md", "CONTRIBUTING.md", "Package.swift"]

    /// Every text file under `entries` (folders recursively; hidden folders and build output
    /// skipped), as (path relative to the root, text). Files that are not UTF-8 are skipped.
    static func textFiles(_ entries: [String]) -> [(path: String, text: String)] {
        let fm = FileManager.default
        var out: [(path: String, text: String)] = []
        for entry in entries {
            let full = root + "/" + entry
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDir) else { continue }
            guard isDir.boolValue else {
                if let text = try? String(contentsOfFile: full, encoding: .utf8) { out.append((entry, text)) }
                continue
            }
            guard let walker = fm.enumerator(atPath: full) else { continue }
            while let relative = walker.nextObject() as? String {
                let parts = relative.split(separator: "/")
                if parts.contains(where: { $0.hasPrefix(".") }) { continue }
                let path = full + "/" + relative
                var dir: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &dir), !dir.boolValue else { continue }
                if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                    out.append((entry + "/" + relative, text))
                }
            }
        }
        return out
    }

    @Test func noFileCitesTheOutsideDocuments() {
        let files = Self.textFiles(Self.scanned)
        #expect(files.count > 100, "found the files: \(files.count)")
        var found: [String] = []
        for (path, text) in files {
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where Self.needles.contains(where: { line.contains($0) }) {
                found.append("\(path):\(n + 1): \(line.trimmingCharacters(in: .whitespaces).prefix(160))")
            }
        }
        #expect(found.isEmpty, "cite a section of docs/ instead:\n\(found.joined(separator: "\n"))")
    }

    /// The anchors of a markdown file: its headings and the bold leads of its paragraphs
    /// (`**Reading responses.**`), backticks removed, trailing `.`/`:` dropped.
    static func anchors(of doc: String) -> [String]? {
        guard let text = try? String(contentsOfFile: root + "/" + doc, encoding: .utf8) else { return nil }
        var out: [String] = []
        for line in text.split(separator: "\n") {
            let s = String(line)
            if s.hasPrefix("#") {
                let title = s.drop { $0 == "#" }
                guard title.first == " " else { continue }
                out.append(title.replacingOccurrences(of: "`", with: "").trimmingCharacters(in: .whitespaces))
            } else if s.hasPrefix("**"), let end = s.dropFirst(2).range(of: "**") {
                let lead = s[s.index(s.startIndex, offsetBy: 2)..<end.lowerBound]
                out.append(lead.replacingOccurrences(of: "`", with: "")
                    .trimmingCharacters(in: CharacterSet(charactersIn: " .:")))
            }
        }
        return out
    }

    /// A pointer names an anchor when it equals it, or is its beginning up to a word boundary
    /// (`"Registration"` names `## Registration (P+register)`).
    static func names(_ cited: String, _ anchor: String) -> Bool {
        guard anchor.hasPrefix(cited) else { return false }
        guard anchor.count > cited.count else { return true }
        let next = anchor[anchor.index(anchor.startIndex, offsetBy: cited.count)]
        return !(next.isLetter || next.isNumber)
    }

    @Test func everyDocPointerInTheCodeNamesAnExistingHeading() throws {
        let pattern = try NSRegularExpression(pattern: #"((?:docs/[a-z0-9-]+|README|CONTRIBUTING)\.md),? "([^"\n]+)""#)
        var cache: [String: [String]] = [:]   // a doc that cannot be read has no anchors
        var checked = 0
        var broken: [String] = []
        for (path, text) in Self.textFiles(["Sources", "Tests", "Plugins", "config"]) {
            for (n, sub) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = String(sub)
                for match in pattern.matches(in: line, range: NSRange(line.startIndex..., in: line)) {
                    guard let docRange = Range(match.range(at: 1), in: line),
                          let headingRange = Range(match.range(at: 2), in: line) else { continue }
                    let doc = String(line[docRange])
                    let cited = line[headingRange].replacingOccurrences(of: "`", with: "")
                    if cache[doc] == nil { cache[doc] = Self.anchors(of: doc) ?? [] }
                    checked += 1
                    let anchors = cache[doc] ?? []
                    if !anchors.contains(where: { Self.names(cited, $0) }) {
                        broken.append("\(path):\(n + 1): \(doc), \"\(cited)\"" + (anchors.isEmpty ? " (no such doc)" : ""))
                    }
                }
            }
        }
        #expect(checked > 50, "found the pointers: \(checked)")
        #expect(broken.isEmpty, "pointers to headings that do not exist:\n\(broken.joined(separator: "\n"))")
    }
}
