import Foundation
import PackagePlugin

/// Builds `libgtrace-runtime.so` from `Sources/CGtraceRuntime` with the C
/// compiler alone, so the preloaded library links libc/libdl only (a SwiftPM
/// dynamic-library product would pull in libswiftCore).
@main
struct BuildRuntime: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let packageDirectory = context.package.directoryURL
        let runtimeDirectory = packageDirectory.appending(path: "Sources/CGtraceRuntime")
        let formatHeaders = packageDirectory.appending(path: "Sources/CGtraceFormat/include")
        let script = runtimeDirectory.appending(path: "build.sh")
        let output = context.pluginWorkDirectoryURL.appending(path: "libgtrace-runtime.so")
        let sources = try FileManager.default.contentsOfDirectory(atPath: runtimeDirectory.path)
            .filter { $0.hasSuffix(".c") || $0.hasSuffix(".h") || $0 == "build.sh" }
            .sorted()
            .map { runtimeDirectory.appending(path: $0) }
        let headers = try FileManager.default.contentsOfDirectory(atPath: formatHeaders.path)
            .map { formatHeaders.appending(path: $0) }
        return [
            .buildCommand(
                displayName: "Building libgtrace-runtime.so with the C compiler",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, output.path],
                inputFiles: sources + headers,
                outputFiles: [output]
            ),
        ]
    }
}
