import Foundation

/// The repository the tests run from: three levels up from this file
/// (Tests/KernelTestSupport/Repository.swift).
public enum Repository {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
