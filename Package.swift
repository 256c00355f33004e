// swift-tools-version:6.0
import PackageDescription

/// Release builds drop the run-time exclusivity checks of the per-event code
/// (swift_beginAccess on every captured variable: ~10% of merge and report time);
/// debug builds, which the tests use, keep them.
let fast: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "gtrace",
    products: [
        .executable(name: "gtrace", targets: ["gtrace"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Perfetto's native trace format (gtrace export --format perfetto); the
        // Swift code is generated once from Protos/perfetto (tools/perfetto-protos).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // Layouts shared by the C runtime and the Swift reader.
        .target(name: "CGtraceFormat"),
        // Linux calls the recorder needs that Swift's Glibc module lacks (prctl).
        .target(name: "CGtraceSystem", dependencies: ["CGtraceFormat"], linkerSettings: [.linkedLibrary("stdc++")]),
        // The preload runtime is C compiled by the C compiler alone (it must not
        // link the Swift runtime): the BuildRuntime plugin builds it as a
        // resource of GtraceRecord, so `swift build` / `swift test` produce it.
        .plugin(name: "BuildRuntime", capability: .buildTool()),
        .target(name: "GtraceFormat", dependencies: ["CGtraceFormat"], swiftSettings: fast),
        // libelf, for reading symbol tables (issue 7: names for locks and call sites).
        .systemLibrary(name: "CLibElf", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
        .target(name: "GtraceSymbols", dependencies: ["CLibElf"]),
        .target(name: "GtraceAnalysis", dependencies: ["GtraceFormat"], swiftSettings: fast),
        .target(
            name: "GtraceExport",
            dependencies: ["GtraceAnalysis", "GtraceFormat", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: fast
        ),
        .target(
            name: "GtraceRecord",
            dependencies: ["GtraceFormat", "CGtraceFormat", "CGtraceSystem", "GtraceSymbols"],
            swiftSettings: fast,
            plugins: ["BuildRuntime"]
        ),
        .executableTarget(
            name: "gtrace",
            dependencies: [
                "GtraceFormat", "GtraceAnalysis", "GtraceExport", "GtraceRecord",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "GtraceFormatTests", dependencies: ["GtraceFormat", "CGtraceFormat"]),
        .testTarget(name: "GtraceAnalysisTests", dependencies: ["GtraceAnalysis", "GtraceFormat"]),
        .testTarget(
            name: "GtraceExportTests",
            dependencies: ["GtraceExport", "GtraceAnalysis", "GtraceFormat", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            // Inputs tools/fuzz found crashing, read by FuzzFindingsTests from the source tree.
            exclude: ["FuzzFindings"]
        ),
        .testTarget(name: "GtraceSymbolsTests", dependencies: ["GtraceSymbols"]),
        .testTarget(name: "GtraceRecordTests", dependencies: ["GtraceRecord"]),
        .testTarget(name: "EndToEndTests", dependencies: ["GtraceFormat", "GtraceAnalysis"]),
    ]
)
