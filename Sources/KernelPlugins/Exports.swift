// Families, columns, values and tags are the store's vocabulary too: they live in KernelSchema,
// and every user of the plugin host sees them through it.
@_exported import KernelSchema
