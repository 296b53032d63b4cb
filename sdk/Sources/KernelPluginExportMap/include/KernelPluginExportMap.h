/* Nothing to declare: the KernelPluginExportMap target exists for the autolink entry in
   ExportMap.c (SwiftPM wants a public headers folder for a C target). */
