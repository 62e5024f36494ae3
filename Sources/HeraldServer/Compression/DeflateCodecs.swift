import NIOCore

/// Every event loop's ``DeflateCodec``, made when the server starts; absent when `WS_COMPRESSION=false`.
package final class DeflateCodecs: Sendable {
    private let codecs: [ObjectIdentifier: NIOLoopBoundBox<DeflateCodec>]

    package init(eventLoops: [any EventLoop]) throws {
        var codecs: [ObjectIdentifier: NIOLoopBoundBox<DeflateCodec>] = [:]
        for loop in eventLoops {
            codecs[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(try DeflateCodec(), eventLoop: loop)
        }
        self.codecs = codecs
    }

    /// The codec of `loop`; call on that loop.
    package func codec(for loop: any EventLoop) -> DeflateCodec? {
        codecs[ObjectIdentifier(loop)]?.value
    }
}
