import KernelPluginABI

/// The plugin state the host holds as `void *state`: the normalizer plus what the SDK needs to
/// route and check each event. Immutable, so a thread-safe normalizer stays thread-safe.
final class NormalizerBox {
    let normalizer: any KernelNormalizer
    let families: [Family]
    let pluginName: String

    struct Family {
        let name: [UInt8]
        let versions: ClosedRange<UInt32>
        let columns: ColumnTable
    }

    init(normalizer: any KernelNormalizer, info: PluginInfo) {
        self.normalizer = normalizer
        pluginName = info.name
        families = info.families.map { Family(name: Array($0.name.utf8), versions: $0.versions, columns: ColumnTable($0)) }
    }

    /// Smallest `kp_event` carrying every field this SDK reads (ABI 1.0).
    static let minimumEventSize = MemoryLayout<kp_event>.size

    /// Routes one event to the normalizer; nil on success, else why it failed.
    func normalize(_ event: UnsafePointer<kp_event>, _ out: UnsafePointer<kp_output>) -> NormalizeError? {
        guard Int(event.pointee.struct_size) >= Self.minimumEventSize else {
            return .internal("kp_event struct_size \(event.pointee.struct_size) is smaller than ABI 1.0's \(Self.minimumEventSize)")
        }
        guard let familyName = event.pointee.family, let family = families.first(where: { Self.equal(familyName, $0.name) }) else {
            let name = event.pointee.family.map { String(cString: $0) } ?? "(null)"
            return .unsupportedVersion("plugin \(pluginName) does not serve family '\(PayloadObject.clip(name))'")
        }
        let version = event.pointee.schema_version
        guard family.versions.contains(version) else {
            return .unsupportedVersion("family \(family.columns.family) version \(version) is not supported (supported: \(family.versions.lowerBound)...\(family.versions.upperBound))")
        }
        var output = Output(out, columns: family.columns)
        do {
            try normalizer.normalize(Event(event), into: &output)
        } catch {
            return error
        }
        if let failure = output.failure { return failure }
        if !family.columns.names.isEmpty, output.rowCount == 0 {
            return .internal("no row produced for family \(family.columns.family)")
        }
        return nil
    }

    /// Whether the C string `c` equals `bytes` exactly.
    static func equal(_ c: UnsafePointer<CChar>, _ bytes: [UInt8]) -> Bool {
        for (i, b) in bytes.enumerated() where UInt8(bitPattern: c[i]) != b { return false }
        return c[bytes.count] == 0
    }
}
