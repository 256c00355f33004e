/// The HTML report's page: markup, style and the script that draws it from
/// the embedded JSON (`@@DATA@@`), with HTMLSections' script spliced in at
/// `/*@@SECTIONS@@*/`. Trace strings only ever go through `textContent` and
/// `setAttribute`.
enum HTMLTemplate {
    static let page = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>gtrace report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.6em 0 .5em; border-bottom: 1px solid #ddd; }
.muted { color: #666; } .numbers { font-size: 1.05em; margin: .6em 0; }
.numbers span { display: inline-block; margin-right: 2em; } .numbers b { font-size: 1.3em; }
.verdict li { margin: .3em 0; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eee; }
td:first-child, th:first-child { text-align: left; }
.row { display: flex; align-items: center; margin: 1px 0; } .label { width: 260px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; font-size: 12px; }
canvas { border: 1px solid #eee; } .bar { height: 14px; display: flex; width: 600px; background: #f4f4f4; }
.bar div { height: 100%; } .legend span { display: inline-block; margin-right: 1em; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; }
</style>
</head>
<body>
<div id="report"></div>
<script type="application/json" id="gtrace-data">@@DATA@@</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("gtrace-data").textContent);
const root = document.getElementById("report");
const colors = ["#2e7d32", "#66bb6a", "#ffb300", "#e53935", "#90caf9", "#7e57c2", "#26c6da", "#bdbdbd"];
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; }
function add(parent, child) { parent.appendChild(child); return child; }
function dur(ns) {
  if (ns >= 1e9) return (ns / 1e9).toFixed(3) + " s";
  if (ns >= 1e6) return (ns / 1e6).toFixed(2) + " ms";
  if (ns >= 1e3) return (ns / 1e3).toFixed(1) + " µs";
  return ns + " ns";
}
function pct(x) { return (x * 100).toFixed(1) + "%"; }
// The share of thread time in waits gtrace cannot see beyond its own buffer set-up (older reports: all of it).
function unseenShare(inv) { return inv.shareBeyondRecording === undefined ? inv.share : inv.shareBeyondRecording; }
function table(headers, rows) {
  const t = el("table"), head = add(t, el("tr"));
  for (const h of headers) add(head, el("th", h));
  for (const r of rows) { const tr = add(t, el("tr")); for (const c of r) add(tr, el("td", c)); }
  return t;
}
function legend(states) {
  const d = el("div", undefined, "legend");
  states.forEach((s, i) => { const span = add(d, el("span")); const sw = add(span, el("i")); sw.style.background = colors[i]; span.appendChild(document.createTextNode(s)); });
  return d;
}
function renderRun(run, index) {
  const s = run.summary, section = add(root, el("section"));
  add(section, el("h1", (data.runs.length > 1 ? "Run " + (index + 1) + ": " : "gtrace report: ") + s.trace));
  add(section, el("div", s.command, "muted"));
  const verdict = add(section, el("ul", undefined, "verdict"));
  for (const v of run.verdict) add(verdict, el("li", v));
  const p = run.parallelism;
  if (p) {
    const nums = add(section, el("div", undefined, "numbers"));
    const items = [["wall time", dur(p.wallNanoseconds)], ["parallelism (" + p.cpuSource + " ÷ wall, " + p.cores + " cores)", p.averageParallelism.toFixed(2)]];
    if (p.bound) items.push(["at most, with unlimited cores (" + (p.bound.limitedBy === "lock" && p.serialised ? p.serialised.resource : p.bound.limitedBy) + ")" + (run.invisibleWaits && unseenShare(run.invisibleWaits) >= 0.1 ? ", if the " + pct(unseenShare(run.invisibleWaits)) + " of thread time in waits gtrace cannot see stays as recorded" : ""), p.bound.value.toFixed(2)]);
    if (p.foreignLoad && p.foreignLoad.confirmed !== false) items.push(["of the run other programs held the CPUs" + (p.foreignLoad.share >= 0.1 ? ": measured times are inflated" : ""), pct(p.foreignLoad.share)]);
    if (p.foreignLoad && p.foreignLoad.undetermined) items.push(["of the run a thread waited for a CPU that other work held or that idled (this machine's idle counters, /proc/stat's 10 ms ticks, cannot tell which)", pct(p.foreignLoad.share)]);
    if (p.foreignLoad && p.foreignLoad.confirmed === false && !p.foreignLoad.undetermined) items.push(["of the run a thread waited for a CPU that stayed idle (the scheduler's placement; the machine's idle counters leave no room for other programs)", pct(p.foreignLoad.share)]);
    if (p.replayFit) items.push(["replay vs measured" + (p.replayFit.fits ? "" : ": the model does not fit, no predictions"), (p.replayFit.error >= 0 ? "+" : "") + pct(p.replayFit.error)]);
    for (const [label, value] of items) { const sp = add(nums, el("span")); add(sp, el("b", value)); sp.appendChild(document.createTextNode(" " + label)); }
  }
  add(section, el("div", (s.processCount - (s.execCount || 0)) + " processes" + (s.execCount ? " (" + s.execCount + " execs)" : "") + ", " + (s.threadCount - (s.execContinuedThreads || 0)) + " threads, " + s.lockCount + " locks, " + s.eventCount + " events; CPU " + dur(s.cpuNanoseconds) + "; scheduling from " + s.scheduling, "muted"));

  if (run.timeline && run.timeline.rows.length) {
    const tl = run.timeline;
    add(section, el("h2", "Timeline (" + tl.rows.length + " threads; each column " + dur(tl.bucketNanoseconds) + "; dark line: holding a lock)"));
    add(section, legend(tl.states));
    for (const r of tl.rows) {
      const row = add(section, el("div", undefined, "row"));
      const label = add(row, el("div", r.tid + " " + r.name + " (pid " + r.pid + ")", "label"));
      label.setAttribute("title", label.textContent);
      const c = add(row, el("canvas")); c.width = 800; c.height = 16;
      const g = c.getContext("2d"), w = c.width / r.dominant.length;
      r.dominant.forEach((st, i) => {
        if (st < 0) return;
        g.fillStyle = colors[st]; g.fillRect(i * w, 0, Math.ceil(w), 12);
        if (r.lockHeld[i] > 0) { g.fillStyle = "rgba(0,0,0," + (0.2 + 0.8 * r.lockHeld[i] / 100) + ")"; g.fillRect(i * w, 12, Math.ceil(w), 4); }
      });
    }
  }
  if (p && p.utilisation.length) {
    add(section, el("h2", "Threads on a CPU (share of the wall time)"));
    for (const u of p.utilisation) {
      const row = add(section, el("div", undefined, "row")); add(row, el("div", u.threadsOnCPU + " on a CPU", "label"));
      const bar = add(row, el("div", undefined, "bar")); const fill = add(bar, el("div")); fill.style.width = (u.fraction * 100) + "%"; fill.style.background = "#42a5f5";
      add(row, el("span", " " + pct(u.fraction) + " (" + dur(u.nanoseconds) + ")"));
    }
  }
  const withStates = run.threads.filter(t => t.states);
  if (withStates.length) {
    add(section, el("h2", "Where each thread's time went"));
    add(section, legend(["running with GIL", "running", "runnable", "lock/GIL wait", "sleeping", "child wait", "I/O", "other off-CPU"]));
    for (const t of withStates.slice(0, 200)) {
      const st = t.states, parts = [st.runningWithGILNanoseconds, st.runningNanoseconds, st.runnableNanoseconds, st.lockWaitNanoseconds, st.sleepingNanoseconds, st.childWaitNanoseconds, st.ioNanoseconds, st.otherOffCPUNanoseconds];
      const total = parts.reduce((a, b) => a + b, 0) || 1;
      const row = add(section, el("div", undefined, "row")); add(row, el("div", t.tid + " " + t.name, "label"));
      const bar = add(row, el("div", undefined, "bar"));
      parts.forEach((v, i) => { const d = add(bar, el("div")); d.style.width = (100 * v / total) + "%"; d.style.background = colors[i]; d.setAttribute("title", dur(v)); });
    }
  }
  renderGIL(section, run);
  const locks = run.locks.filter(l => !l.futex && (l.acquisitions > 0 || l.waitCount > 0));
  if (locks.length) {
    add(section, el("h2", "Locks by hold ratio"));
    add(section, table(["lock", "pid", "kind", "acquired", "contended", "hold total", "hold ratio", "wait total", "wait ratio"],
      locks.slice(0, 50).map(l => [l.name, l.pid, l.kind, l.acquisitions, pct(l.acquisitions ? l.contendedAcquisitions / l.acquisitions : 0), dur(l.holdTotalNanoseconds), pct(l.holdRatio), dur(l.waitTotalNanoseconds), pct(l.waitRatio)])));
  }
  renderLockFamilies(section, run);
  add(section, el("h2", "Processes"));
  add(section, table(["pid", "ppid", "lifetime", "CPU", "threads", "end", "command"],
    run.processes.slice(0, 200).map(pr => [pr.pid, pr.ppid, dur(pr.lifetimeNanoseconds), dur(pr.onCPUNanoseconds ?? pr.cpuNanoseconds), pr.threadCount, pr.end || pr.exit, pr.command + (pr.instrumented ? "" : " [not instrumented]")])));
}
if (data.comparison) {
  const section = add(root, el("section"));
  add(section, el("h1", "Comparison of " + data.comparison.runs.length + " runs"));
  const longest = Math.max(...data.comparison.runs.map(r => r.wallNanoseconds)) || 1;
  data.comparison.runs.forEach((r, i) => {
    const row = add(section, el("div", undefined, "row")); add(row, el("div", "run " + (i + 1) + ": " + r.trace, "label"));
    const bar = add(row, el("div", undefined, "bar")); const fill = add(bar, el("div")); fill.style.width = (100 * r.wallNanoseconds / longest) + "%"; fill.style.background = "#5c6bc0";
    add(row, el("span", " " + dur(r.wallNanoseconds) + ", " + r.speedup.toFixed(2) + "× vs run 1, efficiency " + pct(r.efficiency)));
  });
  add(section, el("ul", undefined, "verdict")).append(...data.comparison.runs.map((r, i) => el("li", "run " + (i + 1) + " is limited by " + r.limit + "." + (r.foreignLoadShare != null ? " Other programs held the CPUs " + pct(r.foreignLoadShare) + " of it." : ""))));
  if (data.comparison.warnings && data.comparison.warnings.length) add(section, el("ul", undefined, "verdict")).append(...data.comparison.warnings.map(w => el("li", "warning: " + w)));
}
/*@@SECTIONS@@*/
data.runs.forEach(renderRun);
window.gtraceRendered = true;
</script>
</body>
</html>
"""#
}
