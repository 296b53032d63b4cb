/// Where failing inputs go: `.fuzz-failures/<target>-<fnv64 of the input>`, with a `.txt` beside
/// it saying what failed and how to replay it. Printing is capped so a systematic failure cannot
/// flood the output; every distinct input is still saved (up to `maxSaved`).
struct FailureLog {
    static let directory = ".fuzz-failures"
    static let maxSaved = 200
    static let maxPrinted = 20

    let target: String
    private(set) var saved = 0
    private(set) var printed = 0

    init(target: String) { self.target = target }

    /// Saves `input` and reports `message`; returns the file path.
    @discardableResult
    mutating func report(_ message: String, input: [UInt8], kind: String = "failure") -> String {
        let path = "\(Self.directory)/\(target)-\(FNV.hex(input))"
        if saved < Self.maxSaved {
            Files.makeDirectory(Self.directory)
            Files.write(path, input)
            let note = "\(kind) in target \(target): \(message)\n"
                + "replay: kernel-fuzz \(target) --reproduce \(path)\n"
                + "shrink: kernel-fuzz \(target) --minimize \(path)\n"
            Files.write(path + ".txt", Array(note.utf8))
            saved += 1
        }
        if printed < Self.maxPrinted {
            printError("\(target): \(kind.uppercased()): \(message) → \(path)")
            printed += 1
            if printed == Self.maxPrinted { printError("\(target): (further failures are saved but not printed)") }
        }
        return path
    }
}
