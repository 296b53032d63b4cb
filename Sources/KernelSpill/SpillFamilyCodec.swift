import KernelSchema

/// The family descriptor inside an event record: what replay needs to write typed rows
/// (name, versions, row limit, columns). The payload JSON schema and column descriptions are not
/// kept: the store does not use them.
enum SpillFamilyCodec {
    static let columnNullable: UInt8 = 0x01
    static let columnHasAllowedValues: UInt8 = 0x02

    static func encode(_ family: FamilyDescriptor, into out: inout [UInt8]) {
        SpillEventCodec.appendString(family.name, to: &out)
        out.appendLE(family.versions.lowerBound)
        out.appendLE(family.versions.upperBound)
        out.appendLE(Int64(family.maxRowsPerEvent))
        out.appendLE(UInt32(truncatingIfNeeded: family.columns.count))
        for column in family.columns {
            SpillEventCodec.appendString(column.name, to: &out)
            out.append(UInt8(truncatingIfNeeded: column.type.rawValue))
            var flags: UInt8 = column.nullable ? columnNullable : 0
            if column.allowedValues != nil { flags |= columnHasAllowedValues }
            out.append(flags)
            if let allowed = column.allowedValues {
                out.appendLE(UInt32(truncatingIfNeeded: allowed.count))
                for value in allowed { SpillEventCodec.appendString(value, to: &out) }
            }
        }
    }

    static func decode(_ r: inout SpillByteReader) throws(SpillFormatError) -> FamilyDescriptor {
        let name = try r.string("family name")
        let minVersion = try r.integer(UInt32.self, "family min version")
        let maxVersion = try r.integer(UInt32.self, "family max version")
        guard minVersion <= maxVersion else {
            throw .badRecord("family \(name): min version \(minVersion) > max version \(maxVersion)")
        }
        let maxRows = try r.integer(Int64.self, "family max rows")
        guard maxRows >= 0 else { throw .badRecord("family \(name): negative max rows \(maxRows)") }
        // A column is at least a u32 name length, a type byte and a flags byte.
        let columnCount = try r.count("column count", minimumElementSize: 6)
        var columns: [ColumnDescriptor] = []
        columns.reserveCapacity(columnCount)
        for _ in 0..<columnCount {
            let columnName = try r.string("column name")
            let rawType = try r.byte("column type")
            guard let type = ColumnType(rawValue: UInt32(rawType)) else {
                throw .badRecord("column \(columnName): unknown column type \(rawType)")
            }
            let flags = try r.byte("column flags")
            guard flags & ~(columnNullable | columnHasAllowedValues) == 0 else {
                throw .badRecord("column \(columnName): unknown column flags 0x\(String(flags, radix: 16))")
            }
            var allowed: [String]?
            if flags & columnHasAllowedValues != 0 {
                let n = try r.count("allowed value count", minimumElementSize: 4)
                var values: [String] = []
                values.reserveCapacity(n)
                for _ in 0..<n { values.append(try r.string("allowed value")) }
                allowed = values
            }
            columns.append(ColumnDescriptor(name: columnName, type: type, nullable: flags & columnNullable != 0,
                                            allowedValues: allowed, description: nil))
        }
        return FamilyDescriptor(name: name, versions: minVersion...maxVersion, payloadSchemaJSON: nil,
                                columns: columns, maxRowsPerEvent: Int(maxRows))
    }
}
