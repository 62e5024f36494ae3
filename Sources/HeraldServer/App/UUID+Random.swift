import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension UUID {
    /// A random (version 4) UUID from the system's generator.
    ///
    /// Foundation's `UUID()` opens, reads and closes `/dev/urandom` for each one on Linux: three system calls and a
    /// file descriptor for every request and every socket, a few percent of a publish's CPU. Here it is one
    /// `getrandom` call for all 16 bytes (`SystemRandomNumberGenerator` makes one for each 8).
    static func random() -> UUID {
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { fill($0) }
        // Version 4 in the seventh byte's high nibble, the RFC 4122 variant in the ninth byte's two high bits.
        uuid.6 = uuid.6 & 0x0F | 0x40
        uuid.8 = uuid.8 & 0x3F | 0x80
        return UUID(uuid: uuid)
    }

    /// Fills `bytes` from the system's generator: glibc's `arc4random_buf` is one `getrandom` call for all of
    /// them.
    private static func fill(_ bytes: UnsafeMutableRawBufferPointer) {
        #if canImport(Glibc)
            arc4random_buf(bytes.baseAddress!, bytes.count)
        #else
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = generator.next() }
        #endif
    }

    /// The UUID as lowercase text, as logs and the wire carry it: Foundation's `uuidString` then `lowercased()`
    /// made two strings and ran the second through Unicode case mapping.
    var lowercasedString: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    text[position] = digits.utf8Start[Int(byte >> 4)]
                    text[position + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }
}
