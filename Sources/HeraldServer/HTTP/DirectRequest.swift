import NIOCore
import NIOHTTP1

/// A request as a ``DirectRoute`` sees it: its head and its whole body, on the connection's event loop.
struct DirectRequest {
    let head: HTTPRequestHead
    let body: ByteBuffer?
    let eventLoop: any EventLoop
}
