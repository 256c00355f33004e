import Foundation
import GtraceFormat

/// Rule 1 when the "as processes" prediction gains nothing. Threads that compute while
/// they hold a `threading.Lock` (`with lock:` around the work) never waited for it: the
/// GIL let one of them run at a time anyway. The replay without the GIL takes that lock
/// as a mutex (`ReplayBuilder.keepTokens`), so the prediction keeps them in turn, and the
/// verdict says which lock does it rather than "processes would run in parallel". Four
/// threads each spinning 5 ms × 20 under one lock (0.43 s) were predicted "1.80× faster"
/// as processes before; four processes sharing a `multiprocessing.Semaphore(1)` the same
/// way took 0.41 s.
extension Verdict {
    /// A Python lock of `pid` that the replay takes as a mutex, held at least this share
    /// of the wall time, is named (the one held longest).
    static let heldPythonLockRatio = 0.5

    /// The sentence for a prediction `w` without the GIL that gains less than
    /// `whatIfGain` on `baseline` (the measured run's wall time when `measured`).
    static func noGainAsProcesses(_ a: TraceAnalysis, pid: Int32, _ w: Prediction, baseline: UInt64, measured: Bool, cores: Int) -> String {
        let mutexes = Set(a.parallelism?.mutexPythonLocks ?? [])
        let held = a.locks.filter { $0.pid == pid && mutexes.contains($0.index) && $0.holdRatio >= heldPythonLockRatio }
            .max { ($0.holdRatio, -$0.index) < ($1.holdRatio, -$1.index) }
        let prediction = String(format: "As processes (without the GIL) the replay predicts no gain: %@ on %d cores, against %@ for %@.",
                                duration(w.wallNanoseconds), w.cores ?? cores, duration(baseline),
                                measured ? "the run as measured" : "the recording replayed as it was")
        guard let held else { return prediction }
        return prediction + String(format: " %@, which they held %.0f%% of the time, lets one of them through at a time: it would do the same to processes that share it.",
                                   held.name, held.holdRatio * 100)
    }

    /// From CPython 3.14 a `threading.Lock` is a PyMutex, taken and let go without a call
    /// gtrace sees unless a thread has to wait: holds the GIL kept from being contended
    /// leave no record, and the prediction cannot keep the threads in turn on them. The
    /// same four threads spinning under one lock on 3.14 were predicted "1.81× faster".
    static func pyMutexHoldsCaveat(_ g: GILStatistics) -> String? {
        guard let minor = pythonMinorVersion(g.python), minor >= 14 else { return nil }
        return "From CPython 3.14 gtrace sees a threading.Lock or Semaphore only when a thread waits for it: if the threads hold one while they compute (the GIL let them take it in turn without waiting), processes that share it would take turns on it and gain less."
    }

    /// Up to CPython 3.13 a `threading.Semaphore` is a counter under a Condition whose
    /// lock each `acquire` and `release` holds a moment: who holds the semaphore leaves
    /// no record, and the replay cannot keep the threads in turn on it. Four threads
    /// spinning 5 ms × 20 each inside `with semaphore:` (`Semaphore(1)`) were predicted
    /// 1.42–1.73× faster as processes; four processes sharing a `multiprocessing.Semaphore(1)`
    /// took as long as the threads. The recording says where the program made one.
    static func semaphoreCaveat(_ a: TraceAnalysis) -> String? {
        guard let sites = a.summary.pythonSemaphores, let first = sites.first else { return nil }
        let made = first.count == 1 ? "a threading.Semaphore" : "\(first.count) threading.Semaphores"
        let others = sites.dropFirst().reduce(0) { $0 + $1.count }
        let more = others > 0 ? " (and \(others) at other lines)" : ""
        return "The program made \(made) at \(first.site)\(more); gtrace does not see which threads hold a semaphore (a counter under a lock held a moment at a time): if they compute while they hold it, processes that share one would wait for it as the threads did, and could gain less."
    }

    /// 14 for "CPython 3.14.2"; nil when not a CPython 3 version.
    static func pythonMinorVersion(_ python: String) -> Int? {
        guard let range = python.range(of: "3.") else { return nil }
        let digits = python[range.upperBound...].prefix { $0.isNumber }
        return Int(digits)
    }
}
