/// "Did you mean …?" for misspelt keys and enum values, by edit distance.
enum Suggestion {
    /// The closest candidate within a small edit distance of `word`, if any; failing that, a
    /// candidate the word is a prefix of or extends (`warning` → `warn`, `stream_na` → `stream`).
    static func closest(to word: String, in candidates: [String]) -> String? {
        let input = Array(word.lowercased().unicodeScalars)
        // Keys are short; a long input is not a typo of any of them and must not cost O(n·m).
        guard input.count <= 64, !input.isEmpty else { return nil }
        let limit = max(1, min(3, input.count / 3))
        var best: (word: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(input, Array(candidate.lowercased().unicodeScalars))
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        if let best { return best.word }
        let lowered = word.lowercased()
        guard lowered.count >= 3 else { return nil }
        return candidates.first { candidate in
            let other = candidate.lowercased()
            return other.count >= 3 && (lowered.hasPrefix(other) || other.hasPrefix(lowered))
        }
    }

    /// `" (did you mean x?)"` or the empty string.
    static func hint(for word: String, in candidates: [String]) -> String {
        closest(to: word, in: candidates).map { " (did you mean \($0)?)" } ?? ""
    }

    /// Edit distance counting insertion, deletion, substitution and the transposition of two
    /// neighbours (optimal string alignment), so `redsi` is one edit from `redis`.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
