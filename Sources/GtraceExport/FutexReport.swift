import GtraceAnalysis
import GtraceFormat

/// The terminal report's futex section: futex words (Rust std, parking_lot,
/// Swift Synchronization locks...) with their waits and wakes.
enum FutexReport {
    static func table(_ a: TraceAnalysis, maxLocks: Int) -> [String] {
        let words = a.locks.filter { $0.futex != nil }.sorted {
            ($0.waitTotalNanoseconds, -$0.index) > ($1.waitTotalNanoseconds, -$1.index)
        }
        guard !words.isEmpty else { return [] }
        var out = ["Futex words (futex: waits only — an uncontended hold never enters the kernel; \(words.count) used"
                   + (words.count > maxLocks ? ", top \(maxLocks) shown" : "") + ")"]
        var table = TextTable(header: ["futex", "pid", "waits", "woken", "EAGAIN", "timeout", "EINTR",
                                       "wait total", "mean", "max", "wait ratio", "wakes", "woke", "wakers", "hand-offs"])
        table.leftAligned = [0]
        for l in words.prefix(maxLocks) {
            guard let f = l.futex else { continue }
            table.rows.append([l.name, "\(l.pid)", "\(f.waits)", "\(f.woken)", "\(f.valueChanged)", "\(f.timedOut)",
                               "\(f.interrupted)", Formatting.duration(l.waitTotalNanoseconds),
                               Formatting.duration(l.waitMeanNanoseconds), Formatting.duration(l.waitMaxNanoseconds),
                               Formatting.percent(l.waitRatio), "\(f.wakeCalls)", "\(f.threadsWoken)", "\(f.wakers)",
                               "\(f.handOffs)"])
        }
        out += table.render()
        for l in words.prefix(maxLocks) where !l.callSites.isEmpty {
            out.append("")
            out.append("  Call sites of \(l.name) (pid \(l.pid)): waits, and wake calls")
            var sites = TextTable(header: ["call site", "waits", "wait total", "wake calls"])
            sites.leftAligned = [0]
            for c in l.callSites {
                sites.rows.append([c.site, "\(c.waits)", Formatting.duration(c.waitNanoseconds), "\(c.acquisitions)"])
            }
            out += sites.render(indent: "    ")
        }
        return out + [""]
    }

    /// HotSpot's parked threads grouped by why they parked.
    static func jvm(_ a: TraceAnalysis) -> [String] {
        guard let j = a.jvmMonitors else { return [] }
        let out = ["JVM waits (HotSpot parks threads on per-thread condition variables; grouped by the frame above the park)"]
        var table = TextTable(header: ["group", "waits", "wait total", "top call site"])
        table.leftAligned = [0, 3]
        for g in j.groups where g.waits > 0 {
            table.rows.append([g.name, "\(g.waits)", Formatting.duration(g.waitNanoseconds), g.sites.first ?? "-"])
        }
        return out + table.render() + [""]
    }
}
