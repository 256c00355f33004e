import GtraceFormat

/// Which Python code held each GIL, where threads waited for it, and who took
/// it from whom (docs/METRICS.md, "Python code at the GIL").
public struct PythonGILAttribution: Sendable, Codable {
    /// Functions by time holding the GIL (self), highest first.
    public var functions: [PythonFunctionGIL]
    /// Places where threads asked for the GIL back, by total wait, highest first.
    public var waitSites: [PythonWaitSite]
    /// Hand-offs (acquisition by another thread than the last holder) per pair of functions.
    public var handOffs: [PythonHandOff]
    /// Time the GIL was held, and the part of it with at least one Python location.
    public var holdNanoseconds: UInt64
    public var locatedHoldNanoseconds: UInt64
    /// Locations at GIL acquisitions/releases, and samples of the holder taken by waiting threads.
    public var boundaryLocations: Int
    public var samples: Int
    /// Mean on-CPU time of the holder between two consecutive locations of a
    /// hold (nil without perf): the resolution of the split between functions.
    /// A switch from one function to another is placed with an error of at most
    /// half of it, ±gap/√12 on average.
    public var meanLocationGapOnCPUNanoseconds: UInt64?
}

public struct PythonFunctionGIL: Sendable, Codable {
    /// "Worker.run (app.py:12)".
    public var function: String
    public var file: String
    /// GIL held while this function was the innermost Python frame.
    public var selfNanoseconds: UInt64
    /// GIL held while it was on the recorded stack (its callees included, up to the recorded depth).
    public var totalNanoseconds: UInt64
    /// The part of `selfNanoseconds` its thread was on a CPU (perf context switches; nil without them).
    public var selfOnCPUNanoseconds: UInt64?
}

public struct PythonWaitSite: Sendable, Codable {
    /// "app.py:42 in sleeper (after clock_nanosleep)".
    public var site: String
    public var function: String
    public var file: String
    public var line: UInt32
    /// The first blocking call between the release and the wait (gtrace's wrappers), if any.
    public var after: String?
    public var waits: Int
    public var waitNanoseconds: UInt64
    public var maxWaitNanoseconds: UInt64
}

public struct PythonHandOff: Sendable, Codable {
    /// The function that released the GIL, and the one whose thread took it.
    public var from: String
    public var to: String
    public var count: Int
    /// Release to acquisition, summed.
    public var latencyNanoseconds: UInt64
}

/// Streaming accumulator fed every event (Analyzer); one result per GIL lock.
struct PythonAttributionAccumulator {
    private let tables: TraceTables
    private let labels: PythonLabelTable
    private let gilLocks: LockSet
    private let hasGIL: Bool
    private static let noFrame = "(no Python frame)"
    /// A location owns at most this much of a hold on either side of it: a hold
    /// with no location in between (a process's only thread holds its GIL from
    /// its first line to its exit, and no waiter samples it) is not given to the
    /// code that happened to run at its start.
    static let reachNanoseconds: UInt64 = 10_000_000
    static let unlocated = "(unlocated: over 10 ms from any recorded location)"
    static let between = "(unlocated: between two recorded locations in different code)"
    /// A new thread that ran its code and ended (or first let the GIL go) with no location in
    /// between: its code held the GIL, but neither end had a Python frame to name it.
    static let newThreadRun = "(unlocated: a new thread's first hold, no Python frame at either end)"
    /// A thread's holds other threads waited for are split by its samples once it has this many.
    static let minimumSamples = 20
    /// A release followed this soon by the thread's next request for the GIL was a forced
    /// switch (CPython re-requests once the thread it made way for has taken the GIL: that
    /// thread's wake-up, tens of µs, more on a busy machine); later, or after a blocking
    /// call, the thread chose it.
    static let forcedRequestNanoseconds: UInt64 = 1_000_000
    /// CPython forces a switch only after a waiter saw no switch for its whole switch
    /// interval (5 ms by default, `sys.setswitchinterval`; the GIL table has each GIL's): a
    /// thread that has been the GIL's last holder for less than 90% of it let it go itself (a
    /// short call that releases it, such as `time.sleep(0)`, which records no blocking call).
    static let defaultIntervalNanoseconds: UInt64 = 5_000_000
    private let forcedAfterNanoseconds: [Int: UInt64]

    private enum LastGIL { case acquire, release }
    private struct Point { var time: UInt64; var frames: PythonStack }
    private struct Hold {
        var lock: Int
        var thread: Int
        var start: UInt64
        /// Since when its thread has been the GIL's last holder (the last switch to it).
        var holderSince: UInt64
        /// The hold began after a forced switch (its first location is wherever the code was), not
        /// after a blocking call or at the thread's start (where the thread chose to wait); nil: unknown.
        var startForced: Bool?
        /// Likewise its end: nil while not known (the thread's next events tell).
        var endForced: Bool?
        /// When the thread asked for the GIL again after this hold, if it had to wait.
        var requestedAt: UInt64?
        var end: UInt64?
        var points: [Point] = []
        /// Off-CPU intervals of the holder during the hold (perf).
        var offCPU: [(start: UInt64, end: UInt64)] = []
        var offSince: UInt64?
        /// Another thread waited for the GIL during the hold: its release was asked for
        /// (a forced switch, at whatever code ran), not where the thread chose to block.
        var contended = false
        /// The first hold of a thread other than a main thread: it began before the thread ran
        /// any Python code (no frame at its start).
        var firstOfNewThread = false
    }
    /// A class: looked up at every event, and its holds' points would be copied with a struct.
    private final class ThreadState {
        var last: LastGIL?
        var lastLock = 0
        var hold: Hold?
        /// A hold whose release and location are in, waiting for the thread's next event to tell
        /// whether the release was forced.
        var ended: Hold?
        var lastReleaseForced: Bool?
        var waitStart: UInt64?
        var waitSite: (id: Int, site: PythonWaitSite)?
        var releaseFrames: PythonStack?
        /// The thread held the GIL before its current hold.
        var heldBefore = false
        var after: String?
        var pendingHandOff: (from: Int, latency: UInt64)?
        var onCPU = true
    }
    /// One label's credit: `PythonFunctionGIL` with the label's id for its name, and
    /// the label that first credited it for its file.
    private struct Credit {
        var label: PythonLabel
        var selfNanoseconds: UInt64 = 0
        var totalNanoseconds: UInt64 = 0
        var selfOnCPUNanoseconds: UInt64?
    }
    /// Credits of holds: per function (by label id), and how much was located.
    private struct Credits {
        var functions: [Int: Credit] = [:]
        var located: UInt64 = 0
        var gapTotal: UInt64 = 0
        var gaps = 0

        mutating func add(_ other: Credits) {
            for (id, f) in other.functions {
                var mine = functions[id] ?? Credit(label: f.label)
                mine.selfNanoseconds = mine.selfNanoseconds.adding(saturating: f.selfNanoseconds)
                mine.totalNanoseconds = mine.totalNanoseconds.adding(saturating: f.totalNanoseconds)
                if let cpu = f.selfOnCPUNanoseconds { mine.selfOnCPUNanoseconds = (mine.selfOnCPUNanoseconds ?? 0).adding(saturating: cpu) }
                functions[id] = mine
            }
            located = located.adding(saturating: other.located)
            gapTotal = gapTotal.adding(saturating: other.gapTotal)
            gaps += other.gaps
        }
    }
    /// One thread's holds that other threads waited for, and its samples by those threads.
    private struct Sampled {
        var wall: UInt64 = 0
        var onCPU: UInt64 = 0
        /// The same holds split by their locations, used when the samples are too few.
        var byLocations = Credits()
        /// Samples by stack: all of them (for the wall time), and those taken while the
        /// holder was on a CPU (for its CPU time; a holder descheduled with the GIL, e.g.
        /// preempted by the thread it just woke, holds it but runs nothing).
        var stacks: [PythonStack: (all: Int, onCPU: Int)] = [:]
        var samples = 0
        var onCPUSamples = 0
    }
    private struct PerLock {
        var credits = Credits()
        var sampled: [Int: Sampled] = [:]
        /// By the id of their `site` text.
        var sites: [Int: PythonWaitSite] = [:]
        var handOffs: [HandOffPair: PythonHandOff] = [:]
        var holder: Int?
        var lastHolder: Int?
        var lastReleaseFunction: Int?
        var lastRelease: UInt64 = 0
        /// When a thread other than the last holder last took it.
        var switchedAt: UInt64 = 0
        var hold: UInt64 = 0
        var boundary = 0
        var samples = 0
        /// Threads waiting for this GIL now.
        var waiting: Set<Int> = []
    }
    private struct HandOffPair: Hashable { var from: Int; var to: Int }
    /// By thread index (looked up at every event).
    private var threads: [ThreadState?]
    /// Threads that are their process's main thread (tid = pid).
    private let mainThreads: Set<Int>
    /// Thread indices by process index: a process's exit ends its threads' holds.
    private let threadsOfProcess: [Int: [Int]]
    private let perf: Bool
    private var locks: [Int: PerLock] = [:]

    init(tables: TraceTables) {
        self.tables = tables
        labels = PythonLabelTable(tables: tables, noFrame: Self.noFrame, unlocated: Self.unlocated, between: Self.between,
                                  newThreadRun: Self.newThreadRun)
        gilLocks = LockSet(tables.gils.compactMap(\.lock))
        hasGIL = tables.gils.contains { $0.lock != nil }
        var forcedAfter: [Int: UInt64] = [:]
        for g in tables.gils {
            guard let lock = g.lock else { continue }
            let interval = g.intervalMicroseconds.map { $0.multiplied(saturating: 1000) } ?? Self.defaultIntervalNanoseconds
            forcedAfter[lock] = interval / 10 * 9
        }
        forcedAfterNanoseconds = forcedAfter
        mainThreads = Set(tables.threads.filter { tables.processes.indices.contains($0.process) && $0.tid == tables.processes[$0.process].pid }
            .map(\.index))
        threadsOfProcess = Dictionary(grouping: tables.threads.map(\.index)) { tables.threads[$0].process }
        perf = tables.info["scheduling"] == "perf"
        threads = Array(repeating: nil, count: tables.threads.count)
    }

    /// Thread `t`'s state, made at its first use.
    private mutating func state(_ t: Int) -> ThreadState {
        if let s = threads[t] { return s }
        let s = ThreadState()
        threads[t] = s
        return s
    }

    /// False when the trace has no Python locations: nothing to do.
    var isEnabled: Bool { !tables.pythonCodes.isEmpty && hasGIL }

    mutating func consume(_ e: TraceEvent) {
        let t = e.thread
        guard threads.indices.contains(t) else { return }
        switch e.kind {
        case .pythonLocation, .pythonSample, .cpuIn, .cpuOut:
            break
        default:
            if threads[t]?.ended != nil { settle(thread: t, by: e) }
        }
        if case .pythonLocation = e.kind {
        } else if let hold = threads[t]?.hold, hold.end != nil {
            // A release whose location did not follow (no location recorded for it).
            finish(hold)
            threads[t]?.hold = nil
            threads[t]?.last = nil
        }
        switch e.kind {
        case let .lockWait(lock, _) where gilLocks.contains(lock):
            let s = state(t)
            s.waitStart = e.time
            s.waitSite = labels.waitSite(s.releaseFrames, after: s.after)
            locks[lock, default: PerLock()].waiting.insert(t)
            if let holder = locks[lock]?.holder, holder != t { threads[holder]?.hold?.contended = true }
        case let .lockAcquire(lock, _) where gilLocks.contains(lock), let .lockAcquired(lock, _) where gilLocks.contains(lock):
            // The lock's state is moved out and back (not copied): a copy would make
            // every change to its tables copy them whole (copy-on-write).
            let s = state(t)
            var l = locks.removeValue(forKey: lock) ?? PerLock()
            if let start = s.waitStart, let (key, new) = s.waitSite {
                let wait = e.time &- start
                var site = l.sites[key] ?? new
                site.waits += 1
                site.waitNanoseconds = site.waitNanoseconds.adding(saturating: wait)
                site.maxWaitNanoseconds = max(site.maxWaitNanoseconds, wait)
                l.sites[key] = site
            }
            if let previous = l.lastHolder, previous != t {
                s.pendingHandOff = (l.lastReleaseFunction ?? labels.noFrame.id, e.time &- l.lastRelease)
            }
            s.waitStart = nil
            s.waitSite = nil
            l.waiting.remove(t)
            if l.lastHolder != t { l.switchedAt = e.time }
            s.hold = Hold(lock: lock, thread: t, start: e.time, holderSince: l.switchedAt, startForced: s.lastReleaseForced,
                          contended: !l.waiting.isEmpty)
            if !s.onCPU { s.hold?.offSince = e.time }
            s.hold?.firstOfNewThread = !s.heldBefore && !mainThreads.contains(t)
            s.heldBefore = true
            s.last = .acquire
            s.lastLock = lock
            l.holder = t
            locks[lock] = l
        case let .lockRelease(lock, _) where gilLocks.contains(lock):
            let s = state(t)
            s.hold?.end = e.time
            if let since = s.hold?.offSince {
                s.hold?.offCPU.append((since, e.time))
                s.hold?.offSince = nil
            }
            s.last = .release
            s.lastLock = lock
            s.after = nil
            if locks[lock]?.holder == t { locks[lock]?.holder = nil }
            locks[lock, default: PerLock()].lastHolder = t
            locks[lock, default: PerLock()].lastRelease = e.time
            locks[lock, default: PerLock()].lastReleaseFunction = nil
        case let .pythonLocation(frames):
            guard let s = threads[t], let last = s.last else { return }
            locks[s.lastLock, default: PerLock()].boundary += 1
            switch last {
            case .acquire:
                s.hold?.points.append(Point(time: e.time, frames: frames))
                if let pending = s.pendingHandOff {
                    addHandOff(lock: s.lastLock, from: pending.from, to: labels.function(frames).id, latency: pending.latency)
                    s.pendingHandOff = nil
                }
            case .release:
                if var hold = s.hold {
                    // A thread (not a main thread) that releases the GIL with no Python
                    // frame after located code has returned from its function: it is
                    // exiting, and its teardown is short. The time since the last
                    // location belongs to that code, not half to "(no Python frame)"
                    // (200 short threads: `task` got 43% of the hold, no frame 45%).
                    if !(frames.isEmpty && !mainThreads.contains(t) && hold.points.contains(where: { !$0.frames.isEmpty })) {
                        hold.points.append(Point(time: hold.end ?? e.time, frames: frames))
                    }
                    s.ended = hold  // finished at the thread's next event, which tells how it ended
                    s.hold = nil
                }
                s.releaseFrames = frames
                locks[s.lastLock, default: PerLock()].lastReleaseFunction = labels.function(frames).id
            }
            s.last = nil
        case let .pythonSample(lock, frames):
            guard let holder = locks[lock]?.holder, threads[holder]?.hold != nil else { return }
            threads[holder]?.hold?.points.append(Point(time: e.time, frames: frames))
            locks[lock]?.samples += 1
            var sampled = locks[lock]?.sampled.removeValue(forKey: holder) ?? Sampled()
            let holderOnCPU = threads[holder]?.onCPU ?? true
            sampled.stacks[frames, default: (0, 0)].all += 1
            if holderOnCPU { sampled.stacks[frames, default: (0, 0)].onCPU += 1 }
            sampled.samples += 1
            if holderOnCPU { sampled.onCPUSamples += 1 }
            locks[lock]?.sampled[holder] = sampled
        case .cpuOut:
            let s = state(t)
            s.onCPU = false
            if s.hold != nil, s.hold?.end == nil { s.hold?.offSince = e.time }
        case .cpuIn:
            let s = state(t)
            s.onCPU = true
            if let since = s.hold?.offSince {
                s.hold?.offCPU.append((since, e.time))
                s.hold?.offSince = nil
            }
        case let .blockBegin(call, _, _):
            if let s = threads[t], s.hold == nil, s.after == nil { threads[t]?.after = call.name }
        case .threadEnd:
            // A main thread exits holding its GIL (the interpreter's finalisation):
            // the hold ends with it, not at the end of the trace (a multiprocessing
            // manager's server was credited 10 ms of rmtree after its exit).
            end(thread: t, at: e.time)
        case .processExit, .exec:
            let process = tables.threads[t].process
            for other in threadsOfProcess[process] ?? [] where other != t { end(thread: other, at: e.time) }
        default:
            break
        }
    }

    /// A thread's ended hold is finished at its next event, or at its next acquisition
    /// after a wait. CPython forced the switch (the release is wherever the code was) when
    /// the thread asked for the GIL again at once, another thread took it meanwhile, and
    /// the thread had been its last holder for a switch interval; otherwise the thread let
    /// it go itself (a blocking call, a lock, code that runs without the GIL).
    private mutating func settle(thread t: Int, by e: TraceEvent) {
        guard var hold = threads[t]?.ended else { return }
        var forced = false
        switch e.kind {
        case let .lockWait(lock, _) where lock == hold.lock && hold.requestedAt == nil:
            hold.requestedAt = e.time
            threads[t]?.ended = hold
            return
        case let .lockAcquire(lock, _) where lock == hold.lock, let .lockAcquired(lock, _) where lock == hold.lock:
            let end = hold.end ?? e.time
            forced = (hold.requestedAt ?? e.time) &- end <= Self.forcedRequestNanoseconds
                && locks[lock]?.lastHolder != t
                && end &- hold.holderSince >= forcedAfterNanoseconds[lock, default: Self.defaultIntervalNanoseconds / 10 * 9]
        default:
            break
        }
        hold.endForced = forced
        threads[t]?.ended = nil
        threads[t]?.lastReleaseForced = forced
        finish(hold)
    }

    /// Ends thread `t`'s holds at `time` (its end, its process's exit, the end of the trace).
    private mutating func end(thread t: Int, at time: UInt64) {
        if let ended = threads[t]?.ended {
            finish(ended)
            threads[t]?.ended = nil
        }
        guard var hold = threads[t]?.hold else { return }
        if hold.end == nil { hold.end = time }
        finish(hold)
        if locks[hold.lock]?.holder == t { locks[hold.lock]?.holder = nil }
        threads[t]?.hold = nil
        threads[t]?.last = nil
    }

    /// Holds still open at the end of the trace end there; each thread's holds that
    /// others waited for are split by its samples when it has enough of them.
    mutating func finish(at end: UInt64) {
        for t in threads.indices { self.end(thread: t, at: end) }
        for lock in Array(locks.keys) {
            guard var l = locks.removeValue(forKey: lock) else { continue }
            for t in l.sampled.keys.sorted() {
                guard let sampled = l.sampled[t] else { continue }
                if sampled.samples >= Self.minimumSamples {
                    split(sampled, into: &l.credits)
                } else {
                    l.credits.add(sampled.byLocations)
                }
            }
            l.sampled = [:]
            locks[lock] = l
        }
    }

    /// Samples are taken at instants of a fixed 1 ms grid, whatever the holder runs: each
    /// stack's share of a thread's samples is its share of the holds they were taken in
    /// (of their CPU time: its share of the samples that found the holder on a CPU).
    private func split(_ sampled: Sampled, into c: inout Credits) {
        let n = Double(sampled.samples), onCPUSamples = Double(max(sampled.onCPUSamples, 1))
        let stacks = sampled.stacks.sorted { ($0.value.all, $0.key.description) > ($1.value.all, $1.key.description) }
        for (frames, count) in stacks {
            credit(&c, frames: frames, nanoseconds: UInt64(saturating: Double(sampled.wall) * Double(count.all) / n),
                   onCPU: UInt64(saturating: Double(sampled.onCPU) * Double(count.onCPU) / onCPUSamples))
        }
        c.located = c.located.adding(saturating: sampled.wall)
        c.gapTotal = c.gapTotal.adding(saturating: sampled.onCPU)
        c.gaps += sampled.samples
    }

    /// The attribution of GIL `lock`, nil when it had no Python location.
    func statistics(lock: Int, limit: Int = 50) -> PythonGILAttribution? {
        guard let l = locks[lock], l.boundary + l.samples > 0 else { return nil }
        let functions = l.credits.functions.map { id, credit in
            PythonFunctionGIL(function: labels.names[id], file: labels.file(credit.label), selfNanoseconds: credit.selfNanoseconds,
                              totalNanoseconds: credit.totalNanoseconds, selfOnCPUNanoseconds: credit.selfOnCPUNanoseconds)
        }
        return PythonGILAttribution(
            functions: Array(functions.sorted { ($0.selfNanoseconds, $0.totalNanoseconds, $1.function) > ($1.selfNanoseconds, $1.totalNanoseconds, $0.function) }.prefix(limit)),
            waitSites: Array(l.sites.values.sorted { ($0.waitNanoseconds, $0.waits, $1.site) > ($1.waitNanoseconds, $1.waits, $0.site) }.prefix(limit)),
            handOffs: Array(l.handOffs.values.sorted { ($0.count, $0.latencyNanoseconds, $1.from, $1.to) > ($1.count, $1.latencyNanoseconds, $0.from, $0.to) }.prefix(limit)),
            holdNanoseconds: l.hold, locatedHoldNanoseconds: l.credits.located, boundaryLocations: l.boundary, samples: l.samples,
            meanLocationGapOnCPUNanoseconds: perf && l.credits.gaps > 0 ? l.credits.gapTotal / UInt64(l.credits.gaps) : nil)
    }

    // MARK: - attribution

    /// Splits a hold among its location points: each point owns the time
    /// nearest to it (the midpoint rule); the first point also owns the time
    /// before it, the last the time after it. A hold other threads waited for is
    /// kept with its thread's samples (`finish(at:)` chooses between the two).
    private mutating func finish(_ hold: Hold) {
        let end = hold.end ?? hold.start
        let duration = end &- hold.start
        var l = locks.removeValue(forKey: hold.lock) ?? PerLock()  // moved, not copied (see consume)
        l.hold = l.hold.adding(saturating: duration)
        if hold.contended {
            var sampled = l.sampled.removeValue(forKey: hold.thread) ?? Sampled()
            let onCPU = attribute(hold, into: &sampled.byLocations)
            sampled.wall = sampled.wall.adding(saturating: duration)
            sampled.onCPU = sampled.onCPU.adding(saturating: onCPU)
            l.sampled[hold.thread] = sampled
        } else {
            _ = attribute(hold, into: &l.credits)
        }
        locks[hold.lock] = l
    }

    /// Credits one hold by its locations; returns the holder's on-CPU time in it.
    private func attribute(_ hold: Hold, into c: inout Credits) -> UInt64 {
        let end = hold.end ?? hold.start
        let duration = end &- hold.start
        // Inside the hold and in time order almost always: then used as they are (three
        // copies per hold were 2% of a dense Python report).
        let points = Self.inOrder(hold.points, from: hold.start, to: end) ? hold.points
            : hold.points.map { Point(time: min(max($0.time, hold.start), end), frames: $0.frames) }
                .enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        var off = hold.offCPU
        if let since = hold.offSince { off.append((since, end)) }
        func onCPU(_ from: UInt64, _ to: UInt64) -> UInt64 {
            guard to > from else { return 0 }
            var offCPU: UInt64 = 0
            for o in off where o.end > from && o.start < to { offCPU = offCPU.adding(saturating: min(o.end, to) - max(o.start, from)) }
            return (to - from) - min(offCPU, to - from)
        }
        let holdOnCPU = onCPU(hold.start, end)
        // Both ends where the thread chose to wait (it took the GIL back after a blocking
        // call and let it go for another), not where CPython interrupted it.
        let chosenEnds = hold.startForced == false && hold.endForced == false
        if hold.firstOfNewThread, duration > 0, !points.isEmpty, points.allSatisfy({ $0.frames.isEmpty }) {
            // Three threads that each ran a 0.4 ms function from start to exit were "(no Python
            // frame)": their code ran, between two ends that had none.
            credit(&c, labels: [labels.newThreadRun], nanoseconds: duration, onCPU: holdOnCPU)
        } else if chosenEnds, points.count == 2, duration > 0, let first = points[0].frames.first, first.code != nil,
           first == points[1].frames.first {
            // Let go at the same call it came back from (a queue's consumer: Condition.wait at
            // threading.py:320, around a whole turn of its loop): the function at the ends may
            // have returned and been called again, and whatever ran in between left no
            // location. Named by the call, not credited to the function.
            credit(&c, labels: [labels.betweenReleases(at: first)], nanoseconds: duration, onCPU: holdOnCPU)
        } else if points.count == 2, duration > 0, chosenEnds || !hold.contended,
                  chosenEnds || points[0].frames.first?.code != points[1].frames.first?.code {
            // The two ends are where the thread chose to block (a pool worker gets its task in
            // Connection._recv and sends its result in Connection._send; a server returns from
            // recv and calls its handler before sendall), not samples of what ran between them
            // (the task's or the handler's code, at neither end). Only what is on both stacks
            // ran throughout. Nobody asked for an uncontended hold's release either.
            let common = commonLabels(points[0].frames, points[1].frames)
            if let first = common.first, !labels.isUnlocated(first) { c.located = c.located.adding(saturating: duration) }
            credit(&c, labels: common, nanoseconds: duration, onCPU: holdOnCPU)
        } else if !points.isEmpty, duration > 0 {
            c.located = c.located.adding(saturating: duration)
            // Wall time by the midpoint in wall time; CPU time by the midpoint
            // in the holder's own on-CPU time (code advances only on a CPU).
            // Midpoints without a sum that could overflow (hostile times near 2^64, tools/fuzz).
            func middle(_ a: UInt64, _ b: UInt64) -> UInt64 { a / 2 + b / 2 + (a & b & 1) }
            for (i, p) in points.enumerated() {
                let from = i == 0 ? hold.start : middle(points[i - 1].time, p.time)
                let to = i == points.count - 1 ? end : middle(p.time, points[i + 1].time)
                let before = i == 0 ? onCPU(hold.start, p.time) : (onCPU(points[i - 1].time, p.time) + 1) / 2
                let after = i == points.count - 1 ? onCPU(p.time, end) : onCPU(p.time, points[i + 1].time) / 2
                if i < points.count - 1 {
                    c.gapTotal = c.gapTotal.adding(saturating: onCPU(p.time, points[i + 1].time))
                    c.gaps += 1
                }
                let wall = to > from ? to - from : 0
                let reachFrom = max(from, p.time > Self.reachNanoseconds ? p.time - Self.reachNanoseconds : 0)
                let reachTo = min(to, p.time.adding(saturating: Self.reachNanoseconds))
                if reachFrom == from && reachTo == to {
                    credit(&c, frames: p.frames, nanoseconds: wall, onCPU: before + after)
                } else {
                    let located = reachTo > reachFrom ? reachTo - reachFrom : 0
                    let locatedOnCPU = min(onCPU(reachFrom, reachTo), before + after)
                    credit(&c, frames: p.frames, nanoseconds: located, onCPU: locatedOnCPU)
                    let unlocated = wall - min(located, wall)
                    credit(&c, labels: [labels.unlocated], nanoseconds: unlocated, onCPU: before + after - locatedOnCPU)
                    c.located -= min(unlocated, c.located)
                }
            }
        }
        return holdOnCPU
    }

    /// The code that ran between two locations in different functions: the innermost
    /// function on both stacks and its callers, its self time labelled as not located
    /// further; none on both recorded stacks (4 frames) is unlocated. A function on both
    /// is one call of it only if its callers, as far as both stacks recorded them, stand at
    /// the same lines (a caller's line does not move during the call). With no caller
    /// recorded, a line that went back means the function looped, or returned and was
    /// called again: a multiprocessing proxy's `_callmethod` takes the GIL back after `recv`
    /// (line 822) and drops it in the next call's `send` (line 821), and its caller's code
    /// ran in between.
    private func commonLabels(_ a: PythonStack, _ b: PythonStack) -> [PythonLabel] {
        for i in a.indices {
            guard let shared = a[i].code, let j = b.firstIndex(where: { $0.code == shared }) else { continue }
            let callersA = a[(i + 1)...], callersB = b[(j + 1)...]
            guard zip(callersA, callersB).allSatisfy({ $0 == $1 }) else { continue }
            let outer = a[i...].map { labels.function($0) }
            if callersA.isEmpty || callersB.isEmpty, b[j].line < a[i].line {
                return [labels.betweenCalls(of: outer[0])]
            }
            return [labels.orCodeItCalled(outer[0])] + outer
        }
        return [labels.between]
    }

    /// Every point inside [start, end], in time order.
    private static func inOrder(_ points: [Point], from start: UInt64, to end: UInt64) -> Bool {
        var last = start
        for p in points {
            guard p.time >= last, p.time <= end else { return false }
            last = p.time
        }
        return true
    }

    private func credit(_ l: inout Credits, frames: PythonStack, nanoseconds: UInt64, onCPU: UInt64) {
        // The stack's labels on the stack, not in an array per point credited.
        withUnsafeTemporaryAllocation(of: PythonLabel.self, capacity: frames.count) { buffer in
            for (i, frame) in frames.enumerated() { buffer.initializeElement(at: i, to: labels.function(frame)) }
            credit(&l, labels: UnsafeBufferPointer(buffer), nanoseconds: nanoseconds, onCPU: onCPU)
        }
    }

    private func credit(_ l: inout Credits, labels: some RandomAccessCollection<PythonLabel>, nanoseconds: UInt64, onCPU: UInt64) {
        let innermost = labels.first ?? self.labels.noFrame
        // Saturating: a hostile trace's holds near 2^62 ns add up past 2^64 (tools/fuzz, seed 2001).
        var own = l.functions[innermost.id] ?? Credit(label: innermost)
        own.selfNanoseconds = own.selfNanoseconds.adding(saturating: nanoseconds)
        if perf { own.selfOnCPUNanoseconds = (own.selfOnCPUNanoseconds ?? 0).adding(saturating: onCPU) }
        l.functions[innermost.id] = own
        func addTotal(_ label: PythonLabel) {
            var entry = l.functions[label.id] ?? Credit(label: label)
            entry.totalNanoseconds = entry.totalNanoseconds.adding(saturating: nanoseconds)
            l.functions[label.id] = entry
        }
        if labels.isEmpty { addTotal(innermost) }
        for (i, label) in zip(labels.indices, labels) where !labels[..<i].contains(where: { $0.id == label.id }) {
            addTotal(label)
        }
    }

    private mutating func addHandOff(lock: Int, from: Int, to: Int, latency: UInt64) {
        let key = HandOffPair(from: from, to: to)
        var h = locks[lock]?.handOffs[key]
            ?? PythonHandOff(from: labels.names[from], to: labels.names[to], count: 0, latencyNanoseconds: 0)
        h.count += 1
        h.latencyNanoseconds = h.latencyNanoseconds.adding(saturating: latency)
        locks[lock, default: PerLock()].handOffs[key] = h
    }
}
