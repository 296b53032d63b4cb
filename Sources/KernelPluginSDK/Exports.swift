// Plugin authors write `import KernelPluginSDK` and nothing else: the JSON model they receive
// (`JSONValue`, `JSONObject`) is part of the SDK's surface, so it is re-exported here.
@_exported import KernelJSON
