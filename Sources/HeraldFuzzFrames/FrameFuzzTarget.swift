import CLibFuzzer
import Foundation
import HeraldReplay

/// libFuzzer target: raw client bytes through the socket's inbound stack (``InboundReplay``). Built only with
/// `HERALD_FUZZ=1` (see `make fuzz`), which instruments HeraldServer with `-sanitize=fuzzer,address`.
@main
enum FrameFuzzTarget {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }

    static func runOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        guard let data else { return 0 }
        InboundReplay.run(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
}

/// libFuzzer's runtime also links its own `main`, which needs this symbol; both mains run the same callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FrameFuzzTarget.runOne(data, size)
}
