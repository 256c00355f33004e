import CGtraceFormat
import GtraceFormat

/// Where each lock was acquired (the call sites the runtime put in ACQUIRE
/// and WAIT records), counted while the events are converted.
struct CallSiteCounter {
    struct Totals {
        var acquisitions = 0
        var waits = 0
        var waitNanoseconds: UInt64 = 0

        mutating func add(_ other: Totals) {
            acquisitions += other.acquisitions
            waits += other.waits
            waitNanoseconds += other.waitNanoseconds
        }
    }

    // Indexed by lock and by thread (dense indices: no hashing of either per record).
    private var siteTotals: [[UInt64: Totals]]        // lock → site → totals
    private var firstSites: [UInt64]                   // lock → first site (0: none yet)
    private var pending: [[(lock: Int, time: UInt64, site: UInt64)]]  // thread → its waits in progress

    /// Uncontended acquisitions not yet in `siteTotals`, by (lock, site) in a
    /// small direct-mapped table: threads cycle through a few lock and site
    /// pairs, so most acquisitions add 1 here instead of hashing a site.
    private var recent = [(lock: Int, site: UInt64, count: Int)](repeating: (-1, 0, 0), count: recentSlots)
    private static let recentSlots = 32

    init(locks: Int, threads: Int) {
        siteTotals = Array(repeating: [:], count: locks)
        firstSites = Array(repeating: 0, count: locks)
        pending = Array(repeating: [], count: threads)
    }

    /// Adds the counts of a counter of later threads (both flushed here):
    /// sums, and this counter's first sites before the later one's.
    mutating func merge(_ later: CallSiteCounter) {
        var later = later
        flush()
        later.flush()
        for lock in siteTotals.indices where lock < later.siteTotals.count {
            for (site, t) in later.siteTotals[lock] {
                siteTotals[lock][site, default: Totals()].add(t)
            }
            if firstSites[lock] == 0 { firstSites[lock] = later.firstSites[lock] }
        }
        for (condition, sites) in later.conditionTotals {
            for (site, t) in sites { conditionTotals[condition, default: [:]][site, default: Totals()].add(t) }
        }
    }

    /// The sites of `lock` with their totals (after `flush()`).
    func totals(of lock: Int) -> [UInt64: Totals] {
        siteTotals.indices.contains(lock) ? siteTotals[lock] : [:]
    }

    /// Where `lock` was first acquired or waited for.
    func firstSite(of lock: Int) -> UInt64? {
        firstSites.indices.contains(lock) && firstSites[lock] != 0 ? firstSites[lock] : nil
    }

    mutating func acquired(lock: Int, site: UInt64) {
        guard site != 0, siteTotals.indices.contains(lock) else { return }
        let slot = Int(truncatingIfNeeded: (UInt64(lock) &* 0x9E37_79B9 ^ site >> 2 ^ site >> 9) & UInt64(Self.recentSlots - 1))
        if recent[slot].lock == lock && recent[slot].site == site {
            recent[slot].count += 1
            return
        }
        flush(slot)
        recent[slot] = (lock, site, 1)
        if firstSites[lock] == 0 { firstSites[lock] = site }
    }

    /// Adds the pending acquisitions to `siteTotals` (call before reading them).
    mutating func flush() {
        for slot in recent.indices { flush(slot) }
    }

    private mutating func flush(_ slot: Int) {
        let (lock, site, count) = recent[slot]
        guard count > 0 else { return }
        siteTotals[lock][site, default: Totals()].acquisitions += count
        recent[slot] = (-1, 0, 0)
    }

    mutating func waitBegan(lock: Int, site: UInt64, thread: Int, at time: UInt64) {
        guard site != 0, siteTotals.indices.contains(lock), pending.indices.contains(thread) else { return }
        if let i = pending[thread].firstIndex(where: { $0.lock == lock }) {
            pending[thread][i] = (lock, time, site)
        } else {
            pending[thread].append((lock, time, site))
        }
        if firstSites[lock] == 0 { firstSites[lock] = site }
    }

    mutating func waitEnded(lock: Int, thread: Int, at time: UInt64, acquired: Bool) {
        guard pending.indices.contains(thread), let i = pending[thread].firstIndex(where: { $0.lock == lock }) else { return }
        let wait = pending[thread].remove(at: i)
        var t = siteTotals[lock][wait.site, default: Totals()]
        t.waits += 1
        t.waitNanoseconds += time > wait.time ? time - wait.time : 0
        if acquired { t.acquisitions += 1 }
        siteTotals[lock][wait.site] = t
    }

    /// A condition wait's two call sites: the return address of
    /// pthread_cond_*wait and, when its caller keeps frame pointers, the one above.
    struct ConditionSite: Hashable {
        var inner: UInt64
        var outer: UInt64
    }
    private(set) var conditionTotals: [Int: [ConditionSite: Totals]] = [:]  // condition → sites → waits
    private var conditionInner: [Int: UInt64] = [:]                         // thread → return address
    private var conditionWait: [Int: (condition: Int, start: UInt64, end: UInt64?)] = [:]

    /// The records of a condition wait: RELEASE(VIA_COND, arg = inner site),
    /// COND_WAIT, COND_WOKE, ACQUIRE(VIA_COND, arg = outer site).
    private mutating func condition(_ r: gtrace_raw_record, lock: Int, thread: Int, at time: UInt64) {
        switch UInt32(r.kind) {
        case GTRACE_RAW_LOCK_RELEASE.rawValue: conditionInner[thread] = r.arg
        case GTRACE_RAW_COND_WAIT.rawValue: conditionWait[thread] = (lock, time, nil)
        case GTRACE_RAW_COND_WOKE.rawValue:
            if conditionWait[thread]?.condition == lock { conditionWait[thread]?.end = time }
        default:  // the mutex taken again
            guard let wait = conditionWait.removeValue(forKey: thread), let end = wait.end,
                  let inner = conditionInner[thread], inner != 0 else { return }
            let key = ConditionSite(inner: inner, outer: r.arg)
            conditionTotals[wait.condition, default: [:]][key, default: Totals()].waits += 1
            conditionTotals[wait.condition, default: [:]][key, default: Totals()].waitNanoseconds += end > wait.start ? end - wait.start : 0
        }
    }

    mutating func record(_ r: gtrace_raw_record, lock: Int, thread: Int, at time: UInt64) {
        if r.flags & UInt16(GTRACE_LOCKF_VIA_COND.rawValue) != 0 || r.kind == UInt16(GTRACE_RAW_COND_WAIT.rawValue)
            || r.kind == UInt16(GTRACE_RAW_COND_WOKE.rawValue) {
            condition(r, lock: lock, thread: thread, at: time)
            return
        }
        switch UInt32(r.kind) {
        case GTRACE_RAW_LOCK_ACQUIRE.rawValue: acquired(lock: lock, site: r.arg)
        case GTRACE_RAW_LOCK_WAIT.rawValue: waitBegan(lock: lock, site: r.arg, thread: thread, at: time)
        case GTRACE_RAW_LOCK_ACQUIRED.rawValue: waitEnded(lock: lock, thread: thread, at: time, acquired: true)
        case GTRACE_RAW_LOCK_FAILED.rawValue: waitEnded(lock: lock, thread: thread, at: time, acquired: false)
        // A futex word: its waits (woken or not) and the sites that woke it.
        case GTRACE_RAW_FUTEX_WAIT.rawValue: waitBegan(lock: lock, site: r.arg, thread: thread, at: time)
        case GTRACE_RAW_FUTEX_WOKE.rawValue: waitEnded(lock: lock, thread: thread, at: time, acquired: false)
        case GTRACE_RAW_FUTEX_WAKE.rawValue: acquired(lock: lock, site: r.arg)
        default: break
        }
    }
}

extension TraceBuilder {
    /// Call sites shown per lock (the most waited-at first).
    static let callSitesPerLock = 10

    /// Names every lock (but the GIL, named by its Python version) and its top
    /// call sites from the symbols of the objects loaded in its process.
    mutating func buildSymbols(_ counter: CallSiteCounter) {
        var symbolizer = Symbolizer()
        // Each process's image key (the first in imageKeys order), found once rather than searched per lock.
        var keyOfProcess: [Int: SessionContents.ImageKey] = [:]
        for key in imageKeys { if let index = processIndex[key], keyOfProcess[index] == nil { keyOfProcess[index] = key } }
        for lock in tables.locks where lock.kind != .gil && lock.kind != .condition && lock.kind != .pythonLock
            && !pythonLocks.pyMutexes.contains(lock.index) {
            guard let key = keyOfProcess[lock.process] else { continue }
            let objects = loadedObjects(of: key, keyOfProcess: keyOfProcess)
            guard !objects.isEmpty else { continue }
            let executable = session.images[key]?.executable ?? ""
            let named = symbolizer.name(lock.address, objects: objects, mainExecutable: executable)
            var name = named.text
            if !named.inObject {
                // Not in any object's data: heap or stack. Say where it was first taken.
                name = "heap 0x" + String(lock.address, radix: 16)
                if let site = counter.firstSite(of: lock.index) {
                    name += " first used at " + symbolizer.name(site, objects: objects, mainExecutable: executable, returnAddress: true).text
                }
            }
            // A file lock is named by its file (buildFileLockNames); its call sites are the program's.
            if lock.kind != .fileLock { tables.lockNames.append(LockName(lock: lock.index, name: name)) }
            let sites = counter.totals(of: lock.index).sorted {
                ($0.value.waitNanoseconds, $0.value.acquisitions, $1.key) > ($1.value.waitNanoseconds, $1.value.acquisitions, $0.key)
            }
            for (site, totals) in sites.prefix(Self.callSitesPerLock) {
                let text = symbolizer.name(site, objects: objects, mainExecutable: executable, returnAddress: true).text
                tables.callSites.append(CallSite(lock: lock.index, site: text, acquisitions: totals.acquisitions,
                                                 waits: totals.waits, waitNanoseconds: totals.waitNanoseconds))
            }
        }
        nameConditionSites(counter, symbolizer: &symbolizer, keyOfProcess: keyOfProcess)
        warnings += symbolizer.warnings
        symbolWarnings = symbolizer.warnings
        symbolObjectsRead = symbolizer.filesRead
        symbolObjectsCached = symbolizer.filesFromCache
    }

    /// Call sites of condition waits: the caller of pthread_cond_*wait, or for
    /// HotSpot (the caller is PlatformEvent::park or Parker::park in libjvm.so)
    /// the frame above it, which says why the thread parked:
    /// "ObjectMonitor::EnterI(JavaThread*)+0x… (libjvm.so)" for a contended `synchronized`.
    private mutating func nameConditionSites(_ counter: CallSiteCounter, symbolizer: inout Symbolizer,
                                             keyOfProcess: [Int: SessionContents.ImageKey]) {
        for (condition, sites) in counter.conditionTotals.sorted(by: { $0.key < $1.key }) {
            guard tables.locks.indices.contains(condition), let key = keyOfProcess[tables.locks[condition].process] else { continue }
            let objects = loadedObjects(of: key, keyOfProcess: keyOfProcess)
            guard !objects.isEmpty else { continue }
            let executable = session.images[key]?.executable ?? ""
            var byText: [String: CallSiteCounter.Totals] = [:]
            for (site, totals) in sites {
                var text = symbolizer.name(site.inner, objects: objects, mainExecutable: executable, returnAddress: true).text
                if site.outer != 0, text.hasSuffix(" (libjvm.so)") {
                    let outer = symbolizer.name(site.outer, objects: objects, mainExecutable: executable, returnAddress: true)
                    if outer.inObject { text = outer.text }
                }
                byText[text, default: CallSiteCounter.Totals()].waits += totals.waits
                byText[text, default: CallSiteCounter.Totals()].waitNanoseconds += totals.waitNanoseconds
            }
            for (text, totals) in byText.sorted(by: { ($0.value.waitNanoseconds, $0.key) > ($1.value.waitNanoseconds, $1.key) })
                .prefix(Self.callSitesPerLock) {
                tables.callSites.append(CallSite(lock: condition, site: text, acquisitions: 0, waits: totals.waits,
                                                 waitNanoseconds: totals.waitNanoseconds))
            }
        }
    }

    /// The objects an image saw; a fork child uses its parent's (same addresses).
    private func loadedObjects(of key: SessionContents.ImageKey,
                               keyOfProcess: [Int: SessionContents.ImageKey]) -> [SessionContents.LoadedObject] {
        var current = key
        for _ in 0..<64 {
            if let objects = session.objects[current], !objects.isEmpty { return objects }
            guard let index = processIndex[current], let parent = tables.processes[index].parent,
                  let parentKey = keyOfProcess[parent] else { return [] }
            current = parentKey
        }
        return []
    }
}
