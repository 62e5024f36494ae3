/// What a socket agreed to with its client in the `permessage-deflate` negotiation (RFC 7692): the window the
/// server compresses with, and the `Sec-WebSocket-Extensions` value that tells the client so.
///
/// Both sides always give up context takeover: every message is compressed and inflated on its own, so no
/// socket keeps a zlib context (about 300 KB each). That is what lets one loop-wide ``DeflateCodec`` compress a
/// notification once for all its sockets.
package struct DeflateAgreement: Sendable, Equatable {
    /// The base-2 logarithm of the LZ77 window the server's messages use: 15 unless the client asked for less.
    package let serverWindowBits: Int
    /// Whether the client's offer named `server_max_window_bits`, which the answer must then repeat.
    package let windowBitsRequested: Bool

    package var responseHeader: String {
        var header = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        if windowBitsRequested { header += "; server_max_window_bits=\(serverWindowBits)" }
        return header
    }
}
