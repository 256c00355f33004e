/// The HTML report's sections for the GIL and the lock families beyond
/// pthread (futex words, JVM parks, waits gtrace cannot see): the same tables
/// as the text report (PythonReport, FutexReport), drawn from the same JSON.
/// Spliced into `HTMLTemplate.page` at `/*@@SECTIONS@@*/`; it uses the page's
/// `el`, `add`, `table`, `dur` and `pct`.
enum HTMLSections {
    static let script = #"""
function renderGIL(section, run) {
  if (!run.gil || !run.gil.length) return;
  add(section, el("h2", "The GIL"));
  add(section, table(["pid", "Python", "held", "held while ≥2 threads", "acquired", "contended", "hand-offs", "hand-offs/s", "wait total", "CPython's own count"],
    run.gil.map(g => [g.pid, g.python, pct(g.heldRatio), g.heldRatioMultithreaded == null ? "-" : pct(g.heldRatioMultithreaded),
      g.acquisitions, g.contendedAcquisitions, g.handOffs, g.handOffsPerSecond.toFixed(1), dur(g.waitTotalNanoseconds),
      g.cpythonHandOffs == null ? "-" : g.cpythonHandOffs + (g.matchesCPython ? " (matches)" : " (differs)")])));
  for (const g of run.gil) {
    const p = g.pythonCode;
    if (!p || !p.functions.length) continue;
    const located = p.holdNanoseconds ? p.locatedHoldNanoseconds / p.holdNanoseconds : 0;
    add(section, el("div", "Python code holding the GIL in pid " + g.pid + " (" + p.boundaryLocations + " locations at acquire/release, " +
      p.samples + " samples; " + pct(located) + " of the hold located)", "muted"));
    add(section, table(["function", "self", "share", "with callees"],
      p.functions.slice(0, 10).map(f => [f.function, dur(f.selfNanoseconds), pct(p.holdNanoseconds ? f.selfNanoseconds / p.holdNanoseconds : 0), dur(f.totalNanoseconds)])));
    if (p.waitSites.length) {
      add(section, el("div", "Where threads asked for the GIL back (their line at the previous release)", "muted"));
      add(section, table(["call site", "waits", "wait total", "max"],
        p.waitSites.slice(0, 10).map(w => [w.site, w.waits, dur(w.waitNanoseconds), dur(w.maxWaitNanoseconds)])));
    }
  }
}
function renderLockFamilies(section, run) {
  const sites = run.pythonLockWaits || [];
  if (sites.length) {
    add(section, el("h2", "Python lock waits by the program's line"));
    add(section, el("div", "innermost recorded frame outside the standard library, and the library call made there", "muted"));
    add(section, table(["line of the program", "pid", "called", "waits", "threads", "wait total", "max"],
      sites.slice(0, 20).map(w => [w.site, w.pid, w.via == null ? "-" : w.via, w.waits, w.threads, dur(w.waitNanoseconds), dur(w.maxWaitNanoseconds)])));
  }
  const words = run.locks.filter(l => l.futex).sort((a, b) => b.waitTotalNanoseconds - a.waitTotalNanoseconds);
  if (words.length) {
    add(section, el("h2", "Futex words (waits only: an uncontended hold never enters the kernel)"));
    add(section, table(["futex", "pid", "waits", "woken", "EAGAIN", "timeout", "EINTR", "wait total", "max", "wait ratio", "wakes", "woke", "wakers", "hand-offs", "most waited-at call site"],
      words.slice(0, 50).map(l => { const f = l.futex; return [l.name, l.pid, f.waits, f.woken, f.valueChanged, f.timedOut, f.interrupted,
        dur(l.waitTotalNanoseconds), dur(l.waitMaxNanoseconds), pct(l.waitRatio), f.wakeCalls, f.threadsWoken, f.wakers, f.handOffs,
        l.callSites.length ? l.callSites[0].site : "-"]; })));
  }
  const j = run.jvmMonitors;
  if (j) {
    const groups = [j.monitorEntry, j.objectWait, j.park, j.other].filter(g => g.waits > 0);
    if (groups.length) {
      add(section, el("h2", "JVM waits (HotSpot parks threads on per-thread condition variables; grouped by the frame above the park)"));
      add(section, table(["group", "waits", "wait total", "top call site"], groups.map(g => [g.name, g.waits, dur(g.waitNanoseconds), g.sites.length ? g.sites[0] : "-"])));
    }
  }
  const inv = run.invisibleWaits;
  if (inv && unseenShare(inv) >= 0.1) {  // as the text report: from 10% (InvisibleWaitStatistics.significantShare)
    add(section, el("h2", "Waits gtrace cannot see"));
    add(section, el("div", pct(unseenShare(inv)) + " of thread time (" + dur(inv.blockedNanoseconds - (inv.recordingNanoseconds || 0)) + " of " + dur(inv.threadNanoseconds) +
      ") was spent blocked in waits that no wrapper recorded: a lock implemented with raw futex syscalls (e.g. Go), a call gtrace does not wrap, " +
      "or a program the runtime could not enter (static or setuid). Locks behind them may serialise the work." +
      (inv.recordingNanoseconds ? " Not counted: up to " + dur(inv.recordingNanoseconds) + " of gtrace setting up its record buffers." : ""), "muted"));
    add(section, table(["pid", "blocked unseen", "thread time", "instrumented"],
      inv.processes.filter(p => p.blockedNanoseconds > 0).map(p => [p.pid, dur(p.blockedNanoseconds), dur(p.threadNanoseconds), p.instrumented ? "yes" : "no"])));
  }
}
"""#
}
