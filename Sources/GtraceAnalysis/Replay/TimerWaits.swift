/// Timer threads, for `ReplayBuilder`: a thread that waits on a condition with a
/// timeout again and again (HotSpot's WatcherThread every 50 ms, a C flusher with
/// `pthread_cond_timedwait`) until another thread signals it to stop, and then ends.
///
/// Each timeout is a delay in the replay, so the chain of them kept the timer thread
/// alive until the recorded moment of the stop signal in every what-if, and a faster
/// what-if could end no sooner than the recording: every Java program's "more cores"
/// was 1.0× (4 threads computing on 2 cores: 188 ms predicted on 4 cores against 200).
/// The stop signal would have ended whichever timed wait the thread was in, so the
/// timeouts before it (and the short work between them) become a wait for that signal:
/// the replay ends the thread when the signaller gets there, as the program would.
/// A Python timer (`while not stop.wait(0.02):`) waits on a new waiter lock each time:
/// its Python lock waits count as one condition, `pythonLocks`.
struct TimerWaits {
    static let pythonLocks = -1

    /// Per thread, its waits that timed out: the delay's operation index and the condition.
    private var timedOut: [[(op: Int, condition: Int)]]
    /// Per thread, its last wait that another thread's signal ended: the operation index
    /// of the wait for the signaller, and the condition.
    private var lastSignalled: [(op: Int, condition: Int)?]

    /// The work between two timeouts, at most this share of their time: a timer's few
    /// microseconds, not a worker that polls with a timeout between pieces of work.
    static let workShare = 0.1
    /// At most this much work after the stop signal: the thread ends.
    static let tailNanoseconds: UInt64 = 1_000_000

    init(threads: Int) {
        timedOut = Array(repeating: [], count: threads)
        lastSignalled = Array(repeating: nil, count: threads)
    }

    mutating func timedOut(_ t: Int, condition: Int, op: Int) {
        if timedOut[t].last?.op != op { timedOut[t].append((op, condition)) }  // (a merged delay keeps its index)
    }

    mutating func signalled(_ t: Int, condition: Int, op: Int) {
        lastSignalled[t] = (op, condition)
    }

    /// Replaces each timer thread's run of timeouts before its stop signal with
    /// operations that take no time (indices stay: other threads wait for op counts).
    func shorten(_ threads: inout [ReplayProgram.Thread]) {
        for t in threads.indices {
            guard let signal = lastSignalled[t], let first = runStart(threads[t].ops, before: signal, timeouts: timedOut[t]) else { continue }
            // (A Python lock's token operations stay: they take no time, and the scenario
            // without the GIL counts them.)
            for k in first..<signal.op where !threads[t].ops[k].isToken { threads[t].ops[k] = .compute(0) }
        }
    }

    /// The first operation of the run of timeouts on the signal's condition that ends
    /// at the signalled wait, when the thread ends right after it; nil when there is none.
    private func runStart(_ ops: [ReplayProgram.Op], before signal: (op: Int, condition: Int),
                          timeouts: [(op: Int, condition: Int)]) -> Int? {
        guard ops.indices.contains(signal.op), case .waitFor = ops[signal.op] else { return nil }
        var tailWork: UInt64 = 0
        for op in ops[(signal.op + 1)...] {
            switch op {
            case let .compute(ns): tailWork = tailWork.adding(saturating: ns)
            case .acquire, .acquireShared, .release, .foreign, .take, .post: break
            default: return nil
            }
        }
        guard tailWork <= Self.tailNanoseconds else { return nil }
        let timeoutOps = Set(timeouts.filter { $0.condition == signal.condition }.map(\.op))
        var first: Int?
        var waited: UInt64 = 0, work: UInt64 = 0, workBeforeFirst: UInt64 = 0
        var balance: [Int: Int] = [:], balanceAtFirst: [Int: Int] = [:]
        var k = signal.op - 1
        scan: while k >= 0 {
            switch ops[k] {
            case let .delay(ns) where timeoutOps.contains(k):
                first = k
                waited = waited.adding(saturating: ns)
                work = workBeforeFirst
                balanceAtFirst = balance
            case let .compute(ns): workBeforeFirst = workBeforeFirst.adding(saturating: ns)
            case let .acquire(lock), let .acquireShared(lock): balance[lock, default: 0] += 1
            case let .release(lock): balance[lock, default: 0] -= 1
            case .foreign, .take, .post: break
            default: break scan
            }
            k -= 1
        }
        // Every lock taken in the run is let go in it (the condition's mutex, taken back
        // after each wait), and the timer did little but wait.
        guard let first, balanceAtFirst.values.allSatisfy({ $0 == 0 }),
              Double(work) <= Self.workShare * Double(waited) else { return nil }
        return first
    }
}
