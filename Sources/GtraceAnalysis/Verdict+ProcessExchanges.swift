import Foundation
import GtraceFormat

extension Verdict {
    /// Messages at least this many (writes another process read) make the exchange caveat.
    static let exchangeCaveatWrites = 10
    /// Why a count of such writes is a lower bound (wakers.c).
    static let writesNoted = "the runtime notes a descriptor's writes of under 64 KiB about once per 100 µs at most"
    /// What pickling and unpickling cost a byte, as measured for docs/METRICS.md ("Replay").
    static let pickleCostPerByte = "pickle.dumps and loads alone take about 0.3–0.5 ns a byte for bytes and str objects and 9–60 ns for lists of numbers, strings, tuples or dicts"

    /// The caveat said after the "as threads" prediction when its Python processes wrote to
    /// pipes or sockets that another of the tree's processes read (ProcessExchanges.swift):
    /// multiprocessing's pickled tasks and results, which threads would pass by reference.
    /// When the prediction (`predicted`) is no faster than the `baseline`, the sentence says
    /// how much of the processes' CPU time that passing must have taken for threads to be
    /// faster all the same: a `ProcessPoolExecutor(2)` mapping `len` over 8 lists of
    /// 500 000 ints was predicted 1.34× slower as threads, and threads took 1% of its time.
    static func exchangeCaveat(_ a: TraceAnalysis, among python: [GILStatistics], predicted: UInt64, baseline: UInt64) -> String? {
        let processes = Set(python.map(\.process))
        let writers = a.processes.filter { processes.contains($0.index) }
        let writes = writers.map(\.writesReadByOtherProcesses).reduce(0, +)
        guard writes >= exchangeCaveatWrites else { return nil }
        let bytes = writers.map(\.bytesWrittenReadByOtherProcesses).saturatingSum
        let carried = bytes > 0 ? String(format: " carrying %@", byteCount(bytes)) : ""
        var s = String(format: " The replay also keeps what the processes did to pass each other their work: at least %d writes%@ to pipes or sockets that another of them read (%@; multiprocessing pickles each task and result and sends it so); threads of one process would pass them by reference and not spend that time, which gtrace does not measure apart from the work.",
                       writes, carried, writesNoted)
        guard predicted >= baseline else { return s }
        // With one GIL, the passing is work on its serial path: removing it shortens the
        // prediction by at most its CPU time.
        let margin = predicted - baseline
        let cpu = writers.map { $0.onCPUNanoseconds ?? $0.cpuNanoseconds }.saturatingSum
        let theirs = cpu > 0 ? String(format: " of the processes' %@ of CPU time", duration(cpu)) : " of the processes' CPU time"
        // Interpreters started anew (interpreterStartCaveat) are kept too: their start-ups
        // and the passing together must exceed the margin.
        // So are processes forked one after another (replacedProcessesCaveat).
        let started = startedInterpreters(a, among: python).count > 0 || python.contains(where: \.subinterpreter)
        let replaced = replacedProcesses(a, among: python) != nil
        if started || replaced {
            let what = started && replaced ? "those interpreters' start-ups and those processes' starts and exits"
                : started ? "those interpreters' start-ups" : "those processes' starts and exits"
            s += String(format: " So threads can be faster only if that passing%@ and %@ together took more than %@%@. Measure the threads version before choosing.",
                        bytes > 0 ? " of " + byteCount(bytes) : "", what, duration(margin), theirs)
            return s
        }
        if bytes > 0 {
            s += String(format: " So threads can be faster only if passing those %@ (pickling, the pipe, unpickling) took more than %@%@: %@ a byte, where %@. Measure the threads version before choosing.",
                        byteCount(bytes), duration(margin), theirs, perByte(Double(margin) / Double(bytes)), pickleCostPerByte)
        } else {
            s += String(format: " So threads can be faster only if that passing took more than %@%@. Measure the threads version before choosing.", duration(margin), theirs)
        }
        return s
    }

    /// "17.5 ns", "24 µs".
    static func perByte(_ ns: Double) -> String { ns < 1000 ? String(format: "%.1f ns", ns) : duration(UInt64(min(ns, 1e18))) }

    /// "18.3 MB", "420 kB", "96 bytes".
    static func byteCount(_ bytes: UInt64) -> String {
        bytes >= 1_000_000 ? String(format: "%.1f MB", Double(bytes) / 1e6)
            : bytes >= 1_000 ? String(format: "%.0f kB", Double(bytes) / 1e3)
            : "\(bytes) bytes"
    }
}
