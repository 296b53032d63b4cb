extension KernelConfig {
    /// `retention`: how long stored events are kept, and how far ahead monthly partitions are made.
    public struct Retention: Sendable, Equatable {
        /// `retention.months`: whole months of events kept before the current one, for the
        /// generic `events` table and every family without its own entry; 0 keeps them forever.
        public var months = 0
        /// `retention.families`: family name → months, overriding `months` for that family's
        /// typed table (`md_<family>`); 0 keeps it forever.
        public var families: [String: Int] = [:]
        /// `retention.months_ahead`: monthly partitions kept ready, the current month included.
        public var monthsAhead = 2
        /// `retention.check_interval_seconds`: how often the kernel creates partitions ahead and
        /// drops those past retention.
        public var checkIntervalSeconds = 3600

        /// A retention section with every default (keep everything).
        public init() {}

        static let keys = ["months", "families", "months_ahead", "check_interval_seconds"]

        init(_ reader: MappingReader) {
            months = reader.int("months", default: months, min: 0, max: 1200)
            monthsAhead = reader.int("months_ahead", default: monthsAhead, min: 1, max: 120)
            checkIntervalSeconds = reader.int("check_interval_seconds", default: checkIntervalSeconds, min: 1)
            families = Self.readFamilies(reader)
        }

        private static func readFamilies(_ reader: MappingReader) -> [String: Int] {
            let path = reader.child("families")
            guard let node = reader.node("families"), !MappingReader.isNull(node) else { return [:] }
            guard case .mapping(let mapping) = node else {
                reader.log.add(path, "expected a mapping of family names to months, got \(ValueDisplay.describe(node))", .wrongType)
                return [:]
            }
            var result: [String: Int] = [:]
            for (keyNode, value) in mapping {
                guard case .scalar(let key) = keyNode, !key.string.isEmpty else {
                    reader.log.add(path, "family names must be non-empty strings, got \(ValueDisplay.describe(keyNode))", .wrongType)
                    continue
                }
                guard case .scalar(let scalar) = value, let months = Int(scalar.string), (0...1200).contains(months) else {
                    reader.log.add(IssueLog.join(path, key.string),
                                   "expected whole months from 0 (keep forever) to 1200, got \(ValueDisplay.describe(value))",
                                   .invalidValue)
                    continue
                }
                result[key.string] = months
            }
            return result
        }
    }
}
