/// Thread runtimes whose idle threads spin on a CPU before they sleep
/// (docs/METRICS.md, "Thread states"): perf sees a spinning thread as running,
/// so gtrace counts the spinning as work. The recorder notes each process that
/// mapped one (INFO `spin_wait_runtime`, "<pid> <object>", from perf's mmap
/// records) and the report says so next to the numbers the spinning inflates.
public enum SpinWaitRuntime: String, Sendable, Codable, CaseIterable {
    /// GNU libgomp, LLVM libomp, Intel libiomp5: threads spin at barriers and
    /// between parallel regions (OMP_WAIT_POLICY, GOMP_SPINCOUNT).
    case openMP = "OpenMP"
    /// OpenBLAS (numpy's and scipy's wheels ship it as libscipy_openblas*):
    /// helper threads spin between calls before they sleep.
    case openBLAS = "OpenBLAS"

    /// The environment variables that stop a runtime's spinning or its helper
    /// threads; the recorder notes those the command got (INFO `spin_wait_env`,
    /// "NAME=value").
    public static let environmentNames = ["OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS"]

    /// True when `environment` keeps this runtime's threads from spinning: OpenMP's
    /// passive policy, one thread, or no spin count; OpenBLAS on one thread (it reads
    /// OPENBLAS_NUM_THREADS, else GOTO_NUM_THREADS, else OMP_NUM_THREADS).
    public func isQuiet(in environment: [String: String]) -> Bool {
        switch self {
        case .openMP:
            return environment["OMP_WAIT_POLICY"]?.lowercased() == "passive" || environment["OMP_NUM_THREADS"] == "1"
                || environment["GOMP_SPINCOUNT"] == "0"
        case .openBLAS:
            return (environment["OPENBLAS_NUM_THREADS"] ?? environment["GOTO_NUM_THREADS"] ?? environment["OMP_NUM_THREADS"]) == "1"
        }
    }

    /// The runtime an object file is, from its file name; nil for any other object.
    public static func of(object path: String) -> SpinWaitRuntime? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard name.contains(".so") else { return nil }
        if name.hasPrefix("libgomp") || name.hasPrefix("libomp.") || name.hasPrefix("libiomp5") { return .openMP }
        if name.lowercased().contains("openblas") { return .openBLAS }
        return nil
    }
}
