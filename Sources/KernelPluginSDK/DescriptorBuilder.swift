import KernelPluginABI

/// Turns a `PluginInfo` into the C descriptor, once: every struct, array and string is allocated
/// and never freed, because the host keeps pointers into them for the life of the process.
enum DescriptorBuilder {
    static func build(_ info: PluginInfo) -> UnsafePointer<kp_plugin_descriptor> {
        let families = UnsafeMutablePointer<kp_family>.allocate(capacity: max(info.families.count, 1))
        for (i, spec) in info.families.enumerated() {
            (families + i).initialize(to: family(spec))
        }

        var d = kp_plugin_descriptor()
        d.abi_major = UInt32(KP_ABI_MAJOR)
        d.abi_minor = UInt32(KP_ABI_MINOR)
        d.struct_size = UInt32(MemoryLayout<kp_plugin_descriptor>.size)
        d.flags = info.threadSafe ? UInt32(KP_PLUGIN_THREAD_SAFE) : 0
        d.name = CStrings.leak(info.name)
        d.version = CStrings.leak(info.version)
        d.build_info = CStrings.leak(info.buildInfo)
        d.families = UnsafePointer(families)
        d.family_count = UInt32(info.families.count)
        d.`init` = { host, config, configLength, state, err, errCap in
            KernelPluginExport.initialize(host: host, config: config, configLength: configLength,
                                          state: state, err: err, errCap: errCap)
        }
        d.normalize = { state, event, out, err, errCap in
            KernelPluginExport.normalize(state: state, event: event, out: out, err: err, errCap: errCap)
        }
        // Per-event calls are cheap enough through `normalize`; the host loops for us.
        d.normalize_batch = nil
        d.destroy = { state in KernelPluginExport.destroy(state: state) }

        let descriptor = UnsafeMutablePointer<kp_plugin_descriptor>.allocate(capacity: 1)
        descriptor.initialize(to: d)
        return UnsafePointer(descriptor)
    }

    static func family(_ spec: FamilySpec) -> kp_family {
        var f = kp_family()
        f.struct_size = UInt32(MemoryLayout<kp_family>.size)
        f.name = CStrings.leak(spec.name)
        f.min_version = spec.versions.lowerBound
        f.max_version = spec.versions.upperBound
        f.payload_schema_json = spec.payloadSchema.map(CStrings.leak)
        if spec.columns.isEmpty {
            f.columns = nil
            f.column_count = 0
        } else {
            let columns = UnsafeMutablePointer<kp_column>.allocate(capacity: spec.columns.count)
            for (i, c) in spec.columns.enumerated() {
                var k = kp_column()
                k.name = CStrings.leak(c.name)
                k.type = kp_column_type(rawValue: c.type.rawValue)
                k.flags = c.nullable ? UInt32(KP_COL_NULLABLE) : 0
                k.allowed_values = c.allowedValues.map(CStrings.leakList)
                k.description = CStrings.leak(c.description)
                (columns + i).initialize(to: k)
            }
            f.columns = UnsafePointer(columns)
            f.column_count = UInt32(spec.columns.count)
        }
        f.max_rows_per_event = max(spec.maxRowsPerEvent, 1)
        return f
    }
}
