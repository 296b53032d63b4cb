import KernelConfig
import KernelLogging
import Logging

/// Installs the JSON log backend once per process, as configured by `logging.*`.
public enum LoggingSetup {
    /// Bootstraps swift-log with `JSONLogHandler` and returns the kernel's root logger and sink
    /// (flush the sink before exit so the last lines are not lost).
    public static func bootstrap(_ config: KernelConfig.Logging) throws(LogSinkError) -> (Logger, LogSink) {
        let output: String = switch config.output {
        case .stdout: "stdout"
        case .stderr: "stderr"
        case .file(let path): path
        }
        let sink = try LogSink(output: output, capacity: config.buffer)
        let level: Logger.Level = switch config.level {
        case .debug: .debug
        case .info: .info
        case .warn: .warning
        case .error: .error
        }
        LoggingSystem.bootstrap { _ in JSONLogHandler(sink: sink, level: level) }
        return (Logger(label: "kernel"), sink)
    }
}
