/// What one execution concluded.
enum Verdict {
    /// Every property held. `outcome` is a coarse label of the path taken (a reason code, "accepted",
    /// …): an input reaching a label not seen before joins the corpus, a cheap stand-in for coverage.
    case pass(outcome: String)
    /// A property was violated; the text says which and how.
    case fail(String)
}

/// One parser under fuzz: its seeds, its structure-aware mutator and its property checks.
///
/// `run` must be a pure function of the input: anything it varies (policy, clock) is derived
/// from the input's hash, so `--reproduce` replays a saved input exactly.
protocol FuzzTarget: AnyObject {
    var name: String { get }
    /// Valid inputs to start from (each is run unmutated first: a seed that fails is a bug too).
    var seeds: [[UInt8]] { get }
    /// The next input, derived from corpus entry `base` (`other` is another entry, for crossover).
    func mutate(_ base: [UInt8], other: [UInt8], rng: inout FuzzRandom) -> [UInt8]
    /// Runs the parser on `input` and checks its properties.
    func run(_ input: [UInt8]) -> Verdict
}

/// The targets by name, in `all` order.
enum TargetCatalog {
    static let names = ["cert", "token", "canonical", "event", "config"]

    static func make(_ name: String, corpus: String?) throws(FuzzSetupError) -> FuzzTarget {
        switch name {
        case "cert": return try CertTarget(corpusDir: corpus ?? "Tests/Fixtures/fuzz/cert")
        case "token": return try TokenTarget(corpusDir: corpus ?? "Tests/Fixtures/fuzz/token")
        case "canonical": return try CanonicalTarget(corpusDir: corpus ?? "Tests/Fixtures/fuzz/canonical",
                                                    vectorsFile: "Tests/Fixtures/canonical/vectors.json")
        case "event": return try EventTarget(corpusDir: corpus ?? "Tests/Fixtures/fuzz/event")
        case "config": return try ConfigTarget(corpusDir: corpus ?? "Tests/Fixtures/fuzz/config")
        default: throw FuzzSetupError("unknown target \"\(name)\" (targets: \(names.joined(separator: ", ")), all)")
        }
    }
}

/// A target could not be set up (missing corpus, unusable fixture key).
struct FuzzSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
