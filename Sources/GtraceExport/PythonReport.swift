import GtraceAnalysis

/// The Python code at the GIL in the text report (docs/METRICS.md, "Python code at the GIL").
enum PythonReport {
    /// Processes the verdict names: a tree of many Python processes gets the
    /// ones whose GIL was waited for most, the rest in the GIL section.
    static let headlineProcesses = 3

    /// A GIL whose waits, summed over its threads, stay under this share of its
    /// process's lifetime serialised nothing worth a verdict line.
    static let waitedShare = 0.01

    /// One line per CPython process with locations whose GIL threads waited for
    /// (the `headlineProcesses` whose GIL was waited for most): the functions that
    /// held the GIL most. The others get one line that says so: a single-threaded
    /// process holds its GIL from start to end with nobody waiting, and its
    /// holds' split is no finding (xargs -P2 of 8 scripts: three "GIL held by"
    /// lines of 78–79% unlocated code, with no wait).
    static func headline(_ a: TraceAnalysis) -> [String] {
        var out: [String] = []
        let located = a.gil.indices.filter { i in
            guard let p = a.gil[i].pythonCode, p.holdNanoseconds > 0 else { return false }
            return p.functions.prefix(3).contains { $0.selfNanoseconds > 0 }
        }
        func waited(_ i: Int) -> Bool { Double(a.gil[i].waitTotalNanoseconds) >= Self.waitedShare * Double(max(a.gil[i].lifetimeNanoseconds, 1)) }
        // Stable: equal waits keep the trace's process order.
        let ranked = located.filter(waited).sorted { (a.gil[$0].waitTotalNanoseconds, -$0) > (a.gil[$1].waitTotalNanoseconds, -$1) }
        for index in ranked.prefix(headlineProcesses) {
            let g = a.gil[index]
            guard let p = g.pythonCode else { continue }
            let top = p.functions.prefix(3).filter { $0.selfNanoseconds > 0 }
            let parts = top.map { "\($0.function) \(Formatting.percent(Double($0.selfNanoseconds) / Double(p.holdNanoseconds)))" }
            let process = a.gil.count > 1 ? " (\(label(index, in: a)))" : ""
            // Without samples only a hold's two ends are known: a thread that leaves a function
            // and calls it again before releasing (a queue's Condition.wait) gets the whole hold
            // credited to it. Say what the split rests on.
            let basis = p.samples == 0 ? " (split by the code at each hold's two ends, not sampled in between: GTRACE_PY_SAMPLES=1 samples the holds other threads wait for)" : ""
            out.append("  GIL held by\(process): " + parts.joined(separator: ", ") + basis)
            if let site = p.waitSites.first, site.waitNanoseconds > 0 {
                out.append("  most GIL waiting\(process): \(Formatting.duration(site.waitNanoseconds)) at \(site.site)")
            }
        }
        if ranked.count > headlineProcesses {
            out.append("  (the Python code at the GIL of \(ranked.count - headlineProcesses) more processes, whose GILs were waited for less: gtrace report --details)")
        }
        let unwaited = located.filter { !waited($0) }
        if !unwaited.isEmpty {
            let how = unwaited.allSatisfy { a.gil[$0].waitTotalNanoseconds == 0 }
                ? "no thread waited for it"
                : "threads waited for it less than \(Formatting.percent(Self.waitedShare)) of \(unwaited.count == 1 ? "the" : "each") process's lifetime"
            let which = located.count == 1 ? "" : " in \(unwaited.count)\(ranked.isEmpty ? "" : " more") Python process\(unwaited.count == 1 ? "" : "es")"
            out.append("  GIL\(which): \(how); the code that held it: gtrace report --details")
        }
        return out
    }

    /// "pid 812", or "pid 812, subinterpreter 2" when the process has several GILs
    /// (its main interpreter's, then its subinterpreters' in the GIL table's order).
    static func label(_ index: Int, in a: TraceAnalysis) -> String {
        let g = a.gil[index]
        let same = a.gil.indices.filter { a.gil[$0].process == g.process }
        guard same.count > 1 else { return "pid \(g.pid)" }
        guard g.subinterpreter else { return "pid \(g.pid), main interpreter" }
        let ordinal = same.filter { a.gil[$0].subinterpreter }.firstIndex(of: index) ?? 0
        return "pid \(g.pid), subinterpreter \(ordinal + 1)"
    }

    /// Python lock waits by the program's own line (docs/METRICS.md): a Condition's
    /// waiters, joins and queues spread their waits over many lock rows.
    static func lockWaits(_ a: TraceAnalysis, top: Int) -> [String] {
        guard let sites = a.pythonLockWaits, !sites.isEmpty else { return [] }
        var table = TextTable(header: ["line of the program", "pid", "called", "waits", "threads", "wait total", "max"])
        table.leftAligned = [0, 2]
        for s in sites.prefix(top) {
            table.rows.append([TerminalText.field(s.site), "\(s.pid)", TerminalText.field(s.via ?? "-"), "\(s.waits)", "\(s.threads)",
                               Formatting.duration(s.waitNanoseconds), Formatting.duration(s.maxWaitNanoseconds)])
        }
        return ["Python lock waits by the program's line (innermost recorded frame outside the standard library)"] + table.render(indent: "  ") + [""]
    }

    /// The GIL section's tables: functions holding it, places waiting for it, hand-offs.
    static func details(_ g: GILStatistics, top: Int = 10) -> [String] {
        guard let p = g.pythonCode else { return [] }
        var out: [String] = []
        let located = p.holdNanoseconds == 0 ? 0 : Double(p.locatedHoldNanoseconds) / Double(p.holdNanoseconds)
        out.append("  Python code holding the GIL (\(p.boundaryLocations) locations at acquire/release, \(p.samples) samples of the holder by waiting threads; "
                   + "\(Formatting.percent(located)) of the hold located)")
        var functions = TextTable(header: ["function", "self", "share", "with callees"])
        functions.leftAligned = [0]
        for f in p.functions.prefix(top) {
            functions.rows.append([f.function, Formatting.duration(f.selfNanoseconds),
                                   Formatting.percent(p.holdNanoseconds == 0 ? 0 : Double(f.selfNanoseconds) / Double(p.holdNanoseconds)),
                                   Formatting.duration(f.totalNanoseconds)])
        }
        out += functions.render(indent: "    ")
        if !p.waitSites.isEmpty {
            out.append("  Where threads asked for the GIL back (their line at the previous release), most waited-at first")
            var sites = TextTable(header: ["call site", "waits", "wait total", "max"])
            sites.leftAligned = [0]
            for s in p.waitSites.prefix(top) {
                sites.rows.append([s.site, "\(s.waits)", Formatting.duration(s.waitNanoseconds), Formatting.duration(s.maxWaitNanoseconds)])
            }
            out += sites.render(indent: "    ")
        }
        if !p.handOffs.isEmpty {
            out.append("  GIL hand-offs between functions (released in → taken by)")
            var hand = TextTable(header: ["from", "to", "hand-offs", "mean latency"])
            hand.leftAligned = [0, 1]
            for h in p.handOffs.prefix(top) {
                hand.rows.append([h.from, h.to, "\(h.count)", Formatting.duration(h.count == 0 ? 0 : h.latencyNanoseconds / UInt64(h.count))])
            }
            out += hand.render(indent: "    ")
        }
        return out
    }
}
