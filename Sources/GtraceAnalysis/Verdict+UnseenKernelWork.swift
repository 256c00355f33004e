import Foundation

/// Threads that kept the cores busy mostly in the kernel, doing what gtrace cannot
/// see: hand-offs it did not record, or system calls of their own.
///
/// A static C program (the runtime cannot enter it): 4 threads taking one pthread
/// mutex 200 000 times each, all their work under it. perf saw parallelism 1.76 on
/// 2 cores, and the verdict was "Limited by the cores: … the threads ran in
/// parallel". They did not: the kernel took 66% of the CPU time, the threads'
/// futex calls on the mutex, and untraced the program took 0.15–0.21 s on 2 cores
/// and 0.05 s under `taskset -c 0`. In most runs the threads went off the CPU
/// 2 400–8 000 times in ~0.2 s into waits no wrapper recorded; in one only 224 times
/// (a futex wait that finds the word changed returns at once).
/// The same signs come from threads that make system calls of their own (2 static
/// threads, 1 M `getppid` each: the kernel 61–84% of the CPU time, 0.17–0.21 s on
/// 2 cores, 0.33 s on one), so the rule says it cannot tell which.
///
/// The kernel's share is not always the sign: on a later day the same mutex program
/// had the kernel at 34–43% in 4 runs of 5, its user time swollen instead by the lock's
/// and the counter's cache lines moving between the CPUs, and it was "Limited by the
/// cores" again while one core ran it 2.7–3.9× faster. So a static or setuid process
/// that used most of the CPU time, whose threads went off the CPU that often into
/// waits gtrace cannot see (10 000–23 000 a second there, against ~190 for a static Go
/// program's goroutines of arithmetic, which do run in parallel), comes under the rule
/// whatever the kernel's share.
extension Verdict {
    /// The kernel's share of the CPU time (getrusage) from which the rule applies…
    static let unseenKernelShare = 0.5
    /// …when most of the CPU time was in processes the runtime could not enter, or the
    /// threads went off the CPU this often a second into waits gtrace cannot see (as
    /// often as the seen hand-offs of `handOffCostSentence`).
    static var unseenEntriesPerSecond: Double { handOffsPerSecond }

    struct UnseenKernelWork {
        var kernelShare: Double
        /// Entries into waits gtrace cannot see, and how many a second, when that often.
        var entries: (count: Int, perSecond: Double)?
        /// The process the runtime could not enter that used the most CPU time, when such
        /// processes used most of it.
        var uninstrumentedPid: Int32?
    }

    static func unseenKernelWork(_ a: TraceAnalysis) -> UnseenKernelWork? {
        guard let p = a.parallelism, p.cores >= 2, a.summary.wallNanoseconds > 0, a.summary.cpuNanoseconds > 0 else { return nil }
        let kernelShare = Double(a.summary.systemCPUNanoseconds) / Double(a.summary.cpuNanoseconds)
        func cpu(_ s: ProcessStatistics) -> UInt64 { s.onCPUNanoseconds ?? s.cpuNanoseconds }
        let uninstrumented = a.processes.filter { !$0.instrumented }
        let unseenCPU = uninstrumented.map(cpu).saturatingSum
        let pid = Double(unseenCPU) >= 0.5 * Double(max(a.processes.map(cpu).saturatingSum, 1))
            ? uninstrumented.max { (cpu($0), $1.pid) < (cpu($1), $0.pid) }?.pid : nil
        let entries = a.invisibleWaits.flatMap { w -> (Int, Double)? in
            let perSecond = Double(w.entries) / (Double(a.summary.wallNanoseconds) / 1e9)
            return w.isSignificant && perSecond >= unseenEntriesPerSecond ? (w.entries, perSecond) : nil
        }
        let mostlyKernel = kernelShare >= unseenKernelShare
        guard mostlyKernel ? (pid != nil || entries != nil) : (pid != nil && entries != nil) else { return nil }
        return UnseenKernelWork(kernelShare: kernelShare, entries: entries, uninstrumentedPid: pid)
    }

    static func unseenKernelWorkText(_ a: TraceAnalysis, _ u: UnseenKernelWork, parallelism: String) -> String {
        let mostlyKernel = u.kernelShare >= unseenKernelShare
        var text = mostlyKernel
            ? String(format: "Its threads kept the cores busy, %@, but mostly in the kernel: the kernel took %.0f%% of the CPU time (%@)",
                     parallelism, u.kernelShare * 100, duration(a.summary.systemCPUNanoseconds))
            : String(format: "Its threads kept the cores busy, %@, but in what gtrace cannot see (the kernel took %.0f%% of the CPU time, %@)",
                     parallelism, u.kernelShare * 100, duration(a.summary.systemCPUNanoseconds))
        if let pid = u.uninstrumentedPid {
            text += ", and process \(pid), which used most of the CPU time, is static or setuid: gtrace's runtime could not enter it and recorded none of its locks or calls, only its threads' scheduling"
        }
        if let e = u.entries {
            text += String(format: "%@ they went off the CPU %d times, %@ a second, into waits gtrace cannot see%@",
                           u.uninstrumentedPid == nil ? ", and" : "; and", e.count, count(UInt64(e.perSecond.rounded())),
                           u.uninstrumentedPid == nil ? " (no wrapped call: a lock built on raw futex system calls, as Go's, or a call gtrace does not wrap)" : "")
        }
        return text + ". So whether they ran side by side is not known. Threads contending for a lock, or handing a futex word or a pipe back and forth, spend their time this way, their parallelism the contention's own cost (system calls, context switches, waking the other CPU, moving the lock's and its data's cache lines between the CPUs): more cores would not help them, and fewer may be faster. Threads that make system calls of their own (I/O, sleeps, many small calls) run this way too, and do run in parallel. Measure: `taskset -c 0` runs the command on one core."
    }
}
