/// Nearest-rank percentiles of a sample (no interpolation: every reported value was observed).
struct Percentiles {
    let sorted: [Int64]

    init(_ values: [Int64]) { sorted = values.sorted() }

    var count: Int { sorted.count }

    /// The value at quantile `q` (0 < q ≤ 1); nil for an empty sample.
    func value(_ q: Double) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    /// Milliseconds with two decimals, from nanoseconds.
    func ms(_ q: Double) -> String { value(q).map { Fmt.fixed(Double($0) / 1e6, 2) } ?? "-" }
}
