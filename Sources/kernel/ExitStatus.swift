import ArgumentParser

/// Exit statuses with a meaning to the service manager beyond "failed".
enum ExitStatus {
    /// EX_CONFIG (sysexits.h): the configuration is wrong. Restarting cannot help, so the
    /// shipped unit lists it in `RestartPreventExitStatus` and systemd stops retrying.
    static let badConfig = ExitCode(78)
}
