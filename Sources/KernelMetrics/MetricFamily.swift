/// One metric family's declaration: name, kind, help, label names and (histograms) buckets.
/// `KernelMetrics.families` lists every family the kernel exposes.
public struct MetricFamilyInfo: Sendable, Equatable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public let name: String
    public let kind: Kind
    public let help: String
    /// Label names; empty for a single unlabeled series.
    public let labels: [String]
    /// Bucket upper bounds (histograms only).
    public let buckets: [Double]

    init(_ name: String, _ kind: Kind, _ help: String, labels: [String] = [], buckets: [Double] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labels = labels
        self.buckets = buckets
    }
}
