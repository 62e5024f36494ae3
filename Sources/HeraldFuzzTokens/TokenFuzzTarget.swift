import CLibFuzzer
import Dispatch
import Foundation
import HeraldReplay

/// libFuzzer target: any bytes as a token through ``TokenReplay`` (size cap, header and `alg` checks, `kid`,
/// jwt-kit's parsing and signature check, the claims). Built only with `HERALD_FUZZ=1` (see `make fuzz`).
@main
enum TokenFuzzTarget {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }

    static func runOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        guard let data else { return 0 }
        let token = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
        let done = DispatchSemaphore(value: 0)
        Task {
            await TokenReplay.run(token)
            done.signal()
        }
        done.wait()
        return 0
    }
}

/// libFuzzer's runtime also links its own `main`, which needs this symbol; both mains run the same callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    TokenFuzzTarget.runOne(data, size)
}
