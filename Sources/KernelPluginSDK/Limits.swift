import KernelPluginABI

/// The host's limits, read from the limits table of `kernel_plugin.h` (the one source the loader,
/// the output checks and docs/plugins.md follow), so `PluginInfo.problems` refuses exactly what
/// the host refuses. Lengths are UTF-8 bytes.
public enum Limits {
    /// Plugin name, `[a-z][a-z0-9_.-]{0,63}`.
    public static let pluginName = Int(KP_PLUGIN_NAME_MAX)
    /// Family name, `[a-z][a-z0-9_]{0,39}`.
    public static let familyName = Int(KP_FAMILY_NAME_MAX)
    /// Column name, `[a-z][a-z0-9_]{0,54}`.
    public static let columnName = Int(KP_COLUMN_NAME_MAX)
    public static let versionText = Int(KP_VERSION_TEXT_MAX)
    public static let buildInfo = Int(KP_BUILD_INFO_MAX)
    public static let families = Int(KP_FAMILIES_MAX)
    public static let columns = Int(KP_COLUMNS_MAX)
    public static let rowsPerEvent = Int(KP_ROWS_PER_EVENT_MAX)
    public static let schemaJSON = Int(KP_SCHEMA_JSON_MAX)
    public static let allowedValues = Int(KP_ALLOWED_VALUES_MAX)
    public static let allowedValue = Int(KP_ALLOWED_VALUE_MAX)
    public static let tags = Int(KP_TAGS_MAX)
    public static let tag = Int(KP_TAG_MAX)
    /// Text and jsonb values and the stored payload.
    public static let text = Int(KP_TEXT_MAX)
    /// Numeric text length; the grammar is `DecimalText`'s.
    public static let numericText = Int(KP_NUMERIC_TEXT_MAX)
    /// Largest |exponent| of numeric text (1e1000 is accepted, 1e1001 refused).
    public static let numericExponent = Int(KP_NUMERIC_EXPONENT_MAX)
}
