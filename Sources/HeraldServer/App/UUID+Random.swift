import Foundation

extension UUID {
    /// A random (version 4) UUID from the system's generator.
    ///
    /// Foundation's `UUID()` opens, reads and closes `/dev/urandom` for each one on Linux: three system calls and a
    /// file descriptor for every request and every socket, a few percent of a publish's CPU. The system's
    /// generator is `getrandom`, one call without a descriptor for each half.
    static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        // Version 4 in the seventh byte's high nibble, the RFC 4122 variant in the ninth byte's two high bits.
        let high = (generator.next() & 0xFFFF_FFFF_FFFF_0FFF | 0x4000).bigEndian
        let low = (generator.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000).bigEndian
        return withUnsafeBytes(of: (high, low)) { bytes in
            UUID(uuid: bytes.load(as: uuid_t.self))
        }
    }
}
