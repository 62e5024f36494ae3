// swift-tools-version:6.1
import Foundation
import PackageDescription

/// `HERALD_FUZZ=1 swift build` (as `make fuzz` does) instruments HeraldServer for libFuzzer and adds the two fuzz
/// executables; a plain build has neither. They run under AddressSanitizer; `HERALD_FUZZ_SANITIZERS=fuzzer` leaves
/// it out, for a deep campaign several times faster (Swift's own bounds and overflow checks stay on).
let fuzzing = ProcessInfo.processInfo.environment["HERALD_FUZZ"] != nil
let sanitize = "-sanitize=" + (ProcessInfo.processInfo.environment["HERALD_FUZZ_SANITIZERS"] ?? "fuzzer,address")
let fuzzFlags: [SwiftSetting] = fuzzing ? [.unsafeFlags([sanitize])] : []

let package = Package(
    name: "herald",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "herald", targets: ["herald"]),
        .library(name: "HeraldServer", targets: ["HeraldServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/websocket-kit.git", from: "2.16.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "HeraldServer",
            dependencies: [
                .product(name: "Vapor", package: "vapor"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            exclude: ["Resources"],
            swiftSettings: fuzzFlags,
            plugins: ["EmbedResources"]
        ),
        // Test support, outside the server: the replay harnesses that the fuzz targets and their regression tests
        // drive (the socket's inbound stack on an EmbeddedChannel, the token verifier with every algorithm family).
        .target(
            name: "HeraldReplay",
            dependencies: [
                "HeraldServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: fuzzFlags
        ),
        // Embeds Sources/HeraldServer/Resources (the OpenAPI document, herald.js, the demo and docs pages) in the
        // binary at build time.
        .executableTarget(name: "herald-embed", path: "Sources/HeraldEmbed"),
        .plugin(name: "EmbedResources", capability: .buildTool(), dependencies: ["herald-embed"]),
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // What both test targets share: seeded randomness, the checkout's root, a client's permessage-deflate.
        .target(
            name: "HeraldTestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            path: "Tests/HeraldTestSupport"
        ),
        .testTarget(
            name: "HeraldUnitTests",
            dependencies: [
                "HeraldServer",
                "HeraldReplay",
                "HeraldTestSupport",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "HeraldServerTests",
            dependencies: [
                "HeraldServer",
                "HeraldTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["Fixtures"]
        ),
    ]
)

if fuzzing {
    package.targets.append(.target(name: "CLibFuzzer"))
    for (name, path) in [
        ("herald-fuzz-frames", "Sources/HeraldFuzzFrames"), ("herald-fuzz-tokens", "Sources/HeraldFuzzTokens"),
    ] {
        package.targets.append(
            .executableTarget(
                name: name, dependencies: ["HeraldServer", "HeraldReplay", "CLibFuzzer"], path: path,
                swiftSettings: [.unsafeFlags([sanitize])],
                linkerSettings: [.unsafeFlags([sanitize, "-use-ld=lld"])]))
    }
}
