import Foundation

/// The checkout's root, for tests that read its files (migrations, the fuzz corpora, the README).
public enum PackageRoot {
    public static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}
