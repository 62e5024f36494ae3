import Foundation

/// Unbuffered lines on stdout: the coordinator reads workers line by line as they happen.
enum Output {
    static func line(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        bytes.withUnsafeBytes { buffer in _ = write(1, buffer.baseAddress, buffer.count) }
    }
}
