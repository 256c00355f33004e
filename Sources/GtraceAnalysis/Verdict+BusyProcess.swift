import Foundation

/// Rule 2f (docs/METRICS.md): processes that waited for one busy process of the tree.
///
/// A `multiprocessing.Pool(2)` fed 20 000 one-line tasks one at a time
/// (`imap(..., chunksize=1)`) ran 860 ms. The parent used 1.04 CPUs on average,
/// pickling and sending each task and reading each result, its three threads
/// taking turns on its GIL; each worker used 0.17, its writes of results waiting
/// while it held its result queue's lock. Rule 2c called that lock the limit
/// ("holding it for less time would let them overlap"). Measured: `Pool(1)` 1.10 s,
/// `Pool(4)` 0.60 s, `chunksize=100` 0.04 s, and the loop without a pool 1 ms.
extension Verdict {
    /// The busy process: on a CPU this share of its lifetime on average, at least (its
    /// pool's parent was at 0.79–0.97 by hand, and lower when the tests' debug recorder
    /// took CPU time beside it)…
    static let busyProcessParallelism = 0.6
    /// …while each of the processes that waited for it was on one at most this share of its
    /// lifetime, and at most half as much as the busy one.
    static let waitingProcessParallelism = 0.5
    /// Messages (writes to pipes or sockets another process read) the busy one sent, at least…
    static let busyProcessMessages = 100
    /// …and each of the others.
    static let waitingProcessMessages = 10

    struct BusyProcess {
        var busy: ProcessStatistics
        var waiting: [ProcessStatistics]
        /// The processes whose writes it read, and those that read its writes, when no
        /// process is both: data went one way through it, a stage of a pipeline (the head,
        /// when it read none: `gzip -c < file | gzip -dc | wc -c`).
        var pipeline: (feeders: [ProcessStatistics], drains: [ProcessStatistics])?
        /// Their writes to pipes or sockets that another process of the tree read, at least.
        var messages: Int { busy.writesReadByOtherProcesses + waiting.map(\.writesReadByOtherProcesses).reduce(0, +) }
    }

    /// Among the processes that lived at least half the run, one on a CPU ≥ 60% of the time
    /// it sent the others ≥ 100 messages, while each of the others that sent messages back
    /// (≥ 10) was on a CPU ≤ 50% of the time it sent them and at most half as much. Each
    /// one's share is taken from its first to its last message (`busyness`), not over its
    /// lifetime: a spawned worker's imports ran at ~1 CPU before any task came, and in one
    /// run they lifted its lifetime share to 0.37 against its parent's 0.70 (0.29 and 0.68
    /// from first to last message).
    /// A process that only received (multiprocessing's resource tracker) is not one of them.
    static func busyProcess(_ a: TraceAnalysis) -> BusyProcess? {
        let wall = a.summary.wallNanoseconds
        let lasting = a.processes.filter { $0.lifetimeNanoseconds >= wall / 2 }
        guard lasting.count >= 2,
              let busy = lasting.max(by: { ($0.busyness.parallelism, $1.pid) < ($1.busyness.parallelism, $0.pid) })
        else { return nil }
        // Its share while the others exchanged, when higher: a pool's parent sends its first
        // tasks before spawned workers have started, and waits for them (a CI run: 0.71
        // from its first message to its last, its workers 0.30 and 0.37 over theirs, and
        // the verdict was "Serial parts", while its own clocks had it at 1.07 CPUs over
        // the tasks and each worker at 0.28).
        let level = max(busy.busyness.parallelism, busy.othersExchangeParallelism ?? 0)
        guard level >= busyProcessParallelism, busy.writesReadByOtherProcesses >= busyProcessMessages else { return nil }
        let waiting = lasting.filter { $0.index != busy.index && $0.writesReadByOtherProcesses >= waitingProcessMessages }
        guard !waiting.isEmpty, waiting.allSatisfy({
            $0.busyness.parallelism <= min(waitingProcessParallelism, level / 2)
        }) else { return nil }
        let drains = Set(busy.readersOfItsWrites ?? [])
        let feeders = a.processes.filter { $0.index != busy.index && ($0.readersOfItsWrites ?? []).contains(busy.index) }
        // Fed by some and feeding others, or only feeding (the head of `gzip -c < file | gzip -dc`).
        let oneWay = !(feeders.isEmpty && drains.isEmpty) && !feeders.contains { drains.contains($0.index) }
        return BusyProcess(busy: busy, waiting: waiting,
                           pipeline: oneWay ? (feeders, a.processes.filter { drains.contains($0.index) }) : nil)
    }

    /// Share of the tree's CPU time the busy process used (most of it), from which it is
    /// the limit even when the run kept the cores busy: a pool's parent and two spawned
    /// workers reached parallelism 1.51 on 2 cores in one test run (the parent ~1 CPU, its
    /// threads taking turns on its GIL), and the verdict fell to "Serial parts", while
    /// more cores would not have sped up the process the others waited for.
    static let busyProcessCPUShare = 0.5

    static func busyProcessKeptTheCoresBusy(_ a: TraceAnalysis, _ b: BusyProcess) -> Bool {
        let tree = a.processes.map { $0.onCPUNanoseconds ?? $0.cpuNanoseconds }.saturatingSum
        let busy = b.busy.onCPUNanoseconds ?? b.busy.cpuNanoseconds
        return tree > 0 && Double(busy) >= busyProcessCPUShare * Double(tree)
    }

    /// The rule's sentence.
    static func busyProcessText(_ a: TraceAnalysis, _ b: BusyProcess, parallelism: String) -> String {
        if let pipeline = b.pipeline { return pipelineStageText(b, pipeline, parallelism: parallelism) }
        let shown = b.waiting.prefix(4).map { String(format: "%.2f", $0.busyness.parallelism) }
        let others = b.waiting.count > 4 ? shown.joined(separator: ", ") + ", …"
            : shown.count == 1 ? shown[0] : shown.dropLast().joined(separator: ", ") + " and " + shown[shown.count - 1]
        let busy = b.busy.busyness
        let over = busySpanText(b.busy, of: "message")
        let them = b.waiting.count == 1 ? "the process it exchanged work with used \(others) over its"
            : "the \(b.waiting.count) processes it exchanged work with used \(others) over theirs"
        var text = String(format: "The processes waited for %@: it used %.2f CPUs on average over %@, while %@; they passed each other at least %d messages (writes to pipes or sockets that another of them read; %@).",
                          processLabel(b.busy), busy.parallelism, over, them, b.messages, writesNoted)
        // Its own threads taking turns on its GIL: why it could not go faster on more cores.
        if let g = a.gil.first(where: { $0.process == b.busy.index && $0.traced }), g.threadsUsingGIL >= 2,
           let held = g.heldRatioMultithreaded, held >= gilFreeHeldRatio {
            text += String(format: " Its %d threads took turns on its GIL (held %.0f%% of the time while several existed, %.1f threads waiting on average).",
                           g.threadsUsingGIL, held * 100, g.averageWaiters)
        }
        // A lock the others shared, held while they waited on a pipe or socket: it passes the wait on.
        if let shared = sharedLock(a), shared.holds > 0,
           Double(shared.holderBlocked) / Double(shared.holds) >= waitedLockBlockedShare {
            text += String(format: " Lock %@, which they shared, was held %.0f%% of the wall time, but its holders spent %.0f%% of their holds in blocking calls made while holding it (%@): it passed that wait on rather than serialising work of its own.",
                           shared.name, Double(shared.holds) / Double(max(a.summary.wallNanoseconds, 1)) * 100,
                           Double(shared.holderBlocked) / Double(shared.holds) * 100,
                           shared.holderBlockedByCall.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3).map(\.key).joined(separator: ", "))
        }
        return text + String(format: " More processes would wait for it too; less work in it per message, or fewer, bigger messages (a multiprocessing pool's chunksize), would let the others work; %@.", parallelism)
    }

    /// A busy stage of a pipeline (`cat big.txt | gzip | wc -c`: gzip on a CPU all the
    /// time, cat and wc nearly never). The pool's advice (fewer, bigger messages) would
    /// not help: untraced, the pipeline took as long as gzip alone on the file (3.45 s),
    /// and the file's two halves compressed by two gzips side by side took half of it.
    static func pipelineStageText(_ b: BusyProcess, _ pipeline: (feeders: [ProcessStatistics], drains: [ProcessStatistics]),
                                  parallelism: String) -> String {
        func list(_ processes: [ProcessStatistics]) -> String {
            let shown = processes.prefix(3).map(processLabel)
            let more = processes.count > 3 ? " and \(processes.count - 3) more" : ""
            return (shown.count <= 2 ? shown.joined(separator: " and ") : shown.dropLast().joined(separator: ", ") + " and " + shown[shown.count - 1]) + more
        }
        let busy = b.busy.busyness
        let over = busySpanText(b.busy, of: "write")
        let pace = String(format: "A pipeline runs at the pace of its slowest stage: more processes would wait for it too; only a faster stage, or its work split across processes side by side, would shorten the run; %@.", parallelism)
        // The head of a pipeline: it read no other process's writes (a file, its own work).
        guard !pipeline.feeders.isEmpty else {
            let fed = pipeline.drains.map { String(format: "%.2f", $0.busyness.parallelism) }.prefix(4).joined(separator: ", ")
            return String(format: "The processes waited for %@: data went one way from it, to %@ (at least %d writes to pipes or sockets that another process read; %@), and it used %.2f CPUs on average over %@, while %@ it fed used %@. ",
                          processLabel(b.busy), list(pipeline.drains), b.messages, writesNoted, busy.parallelism,
                          over, pipeline.drains.count == 1 ? "the process" : "the processes", fed) + pace
        }
        let to = pipeline.drains.isEmpty ? "" : " to " + list(pipeline.drains)
        let fed = pipeline.feeders.map { String(format: "%.2f", $0.busyness.parallelism) }.prefix(4).joined(separator: ", ")
        return String(format: "The processes waited for %@: data went one way through it, from %@%@ (at least %d writes to pipes or sockets that another process read; %@), and it used %.2f CPUs on average over %@, while %@ that fed it used %@. ",
                      processLabel(b.busy), list(pipeline.feeders), to, b.messages, writesNoted, busy.parallelism,
                      over, pipeline.feeders.count == 1 ? "the process" : "the processes", fed) + pace
    }

    /// The time a process's busyness is over: "the 425 ms from its first message to its last
    /// (of its 499 ms)", or "its 499 ms" (its lifetime, without perf).
    static func busySpanText(_ p: ProcessStatistics, of what: String) -> String {
        let busy = p.busyness
        return busy.whileExchanging
            ? "the \(duration(busy.overNanoseconds)) from its first \(what) to its last (of its \(duration(p.lifetimeNanoseconds)))"
            : "its \(duration(busy.overNanoseconds))"
    }

    /// A shared lock whose holders spent this share of their holds blocked is said to pass a wait on.
    static let waitedLockBlockedShare = 0.5
}
