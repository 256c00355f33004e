import CGtraceFormat
import GtraceFormat

/// The process tree and the scheduling from perf: processes the runtime never
/// entered, how each process ended, and which thread each context switch
/// belongs to.
extension TraceBuilder {
    /// Images perf saw that the runtime did not: a static or setuid program
    /// exec'd by a traced process, or a child forked by such a program. Each
    /// pid's life is cut at its execs; a piece with no runtime image becomes a
    /// process marked not instrumented, named from the exec note of its pid.
    mutating func addUninstrumentedProcesses() {
        guard let perf = facts.perf else { return }
        var forkTime: [Int32: (time: UInt64, ppid: Int32)] = [:]
        for fork in perf.forks where fork.pid == fork.tid && forkTime[fork.pid] == nil {
            forkTime[fork.pid] = (time(monotonic: fork.time), fork.ppid)
        }
        var execTimes: [Int32: [UInt64]] = [:]
        for comm in perf.comms where comm.isExec && comm.pid == comm.tid {
            execTimes[comm.pid, default: []].append(time(monotonic: comm.time))
        }
        var exitTime: [Int32: UInt64] = [:]
        for exit in perf.exits where exit.pid == exit.tid { exitTime[exit.pid] = time(monotonic: exit.time) }
        let pids = Set(forkTime.keys).union(execTimes.keys).union(perf.pidOfThread.values)
        for pid in pids.sorted() {
            let execs = execTimes[pid] ?? []
            let images = tables.processes.filter { $0.pid == pid }.map(\.startNanoseconds)
            // Piece 0 runs from the fork; piece i > 0 from the i-th exec.
            var starts: [UInt64] = [forkTime[pid]?.time ?? 0] + execs
            if forkTime[pid] == nil, !execs.isEmpty { starts.removeFirst() }  // born before the recording
            for (i, start) in starts.enumerated() {
                let end = i + 1 < starts.count ? starts[i + 1] : nil
                let covered = images.contains { image in image >= start && (end.map { image < $0 } ?? true) }
                // A fork child's piece before its exec is only the way to the exec.
                let preExec = i == 0 && forkTime[pid] != nil && end != nil
                if covered || preExec { continue }
                if i == 0 && forkTime[pid] == nil && images.isEmpty && pid != facts.rootPid { continue }
                addUninstrumented(pid: pid, start: start, end: end ?? exitTime[pid], replacedByExec: end != nil,
                                  startedByExec: !(i == 0 && forkTime[pid] != nil) && (forkTime[pid].map { $0.time <= start } ?? true),
                                  forkedBy: i == 0 ? forkTime[pid]?.ppid : nil, forkParent: forkTime[pid]?.ppid, perf: perf)
            }
        }
        // Children of processes added above get their parent now.
        for i in tables.processes.indices where tables.processes[i].parent == nil {
            let child = tables.processes[i]
            tables.processes[i].parent = tables.processes.lastIndex {
                $0.index != child.index && ($0.pid == child.ppid || ($0.pid == child.pid && $0.image < child.image))
                    && $0.startNanoseconds <= child.startNanoseconds
            }
        }
    }

    private mutating func addUninstrumented(pid: Int32, start: UInt64, end: UInt64?, replacedByExec: Bool, startedByExec: Bool,
                                            forkedBy: Int32?, forkParent: Int32?, perf: PerfData) {
        let earlier = tables.processes.last { $0.pid == pid && $0.startNanoseconds <= start }
        // A vfork child that exec'd at once has no earlier image: perf's fork record names its parent.
        let ppid = forkedBy ?? earlier?.ppid ?? forkParent ?? 0
        var executable = "", arguments: [String] = []
        if forkedBy != nil, let parent = tables.processes.last(where: { $0.pid == ppid && $0.startNanoseconds <= start }) {
            executable = parent.executable
            arguments = parent.arguments
        } else if let note = (session.execNotes[pid] ?? []).min(by: { distance(time($0.tsc), start) < distance(time($1.tsc), start) }) {
            executable = note.path
            arguments = note.arguments
        }
        if executable.isEmpty {
            let comm = perf.comms.last { $0.pid == pid && time(monotonic: $0.time) <= start + 1_000_000 }?.name ?? "?"
            executable = comm
            arguments = [comm]
        }
        let image = (tables.processes.filter { $0.pid == pid }.map(\.image).max() ?? -1) + 1
        let index = tables.processes.count
        // An image this exec replaced ends here. A wait status it was given
        // (the root's, known to the recorder) belongs to the pid's last image.
        var inherited: (kind: ExitKind, status: Int32)?
        let sameIncarnation = earlier.map { e in forkParent == nil || perfForkTime(pid, perf).map { e.startNanoseconds + 1_000_000 >= $0 } ?? true } ?? false
        if let earlier, (startedByExec && sameIncarnation) || earlier.exitKind == .unknown || earlier.exitKind == .exec {
            if earlier.exitKind == .waitStatus || earlier.exitKind == .signal { inherited = (earlier.exitKind, earlier.exitStatus) }
            tables.processes[earlier.index].endNanoseconds = start
            tables.processes[earlier.index].exitKind = .exec
            tables.processes[earlier.index].exitStatus = 0
        }
        tables.processes.append(GtraceFormat.ProcessInfo(
            index: index, pid: pid, ppid: ppid, parent: earlier?.index, image: image, executable: executable,
            arguments: arguments, startNanoseconds: start, endNanoseconds: end ?? endTime,
            exitKind: replacedByExec ? .exec : inherited?.kind ?? .unknown, exitStatus: replacedByExec ? 0 : inherited?.status ?? 0,
            userCPUNanoseconds: 0, systemCPUNanoseconds: 0, instrumented: false))
    }

    /// Puts every process after its parent in the table (an uninstrumented
    /// parent found from perf is appended after its traced children), keeping
    /// the order otherwise: readers before 0.1.1 reject a forward parent. A
    /// parent link that would close a cycle is dropped.
    mutating func orderParentsFirst() {
        let count = tables.processes.count
        var placed = [Bool](repeating: false, count: count)
        var order: [Int] = []
        for i in 0..<count where !placed[i] {
            var chain: [Int] = []
            var j = i
            var onChain: Set<Int> = []
            while !placed[j], onChain.insert(j).inserted {
                chain.append(j)
                guard let parent = tables.processes[j].parent, parent >= 0, parent < count else { break }
                j = parent
            }
            for k in chain.reversed() {
                placed[k] = true
                order.append(k)
            }
        }
        guard order != Array(0..<count) || tables.processes.contains(where: { ($0.parent ?? -1) >= $0.index }) else { return }
        var newIndex = [Int](repeating: 0, count: count)
        for (position, old) in order.enumerated() { newIndex[old] = position }
        var reordered: [GtraceFormat.ProcessInfo] = []
        for (position, old) in order.enumerated() {
            var process = tables.processes[old]
            process.index = position
            process.parent = process.parent.flatMap { $0 >= 0 && $0 < count ? newIndex[$0] : nil }
            if let parent = process.parent, parent >= position { process.parent = nil }  // a cycle
            reordered.append(process)
        }
        tables.processes = reordered
        for (key, old) in processIndex { processIndex[key] = newIndex[old] }
    }

    /// When perf saw `pid` forked (its first fork record in the recording).
    private func perfForkTime(_ pid: Int32, _ perf: PerfData) -> UInt64? {
        perf.forks.first { $0.pid == pid && $0.tid == pid }.map { time(monotonic: $0.time) }
    }

    private func distance(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : b - a }

    /// Processes start when perf saw them born: the fork (first image of a
    /// pid) or the exec (later images), before the runtime's constructor ran.
    mutating func applyPerfBirths() {
        guard let perf = facts.perf else { return }
        var forkTime: [Int32: UInt64] = [:]
        for fork in perf.forks where fork.pid == fork.tid && forkTime[fork.pid] == nil { forkTime[fork.pid] = time(monotonic: fork.time) }
        var execTimes: [Int32: [UInt64]] = [:]
        for comm in perf.comms where comm.isExec && comm.pid == comm.tid { execTimes[comm.pid, default: []].append(time(monotonic: comm.time)) }
        for i in tables.processes.indices where tables.processes[i].instrumented {
            let process = tables.processes[i]
            let earlierImages = tables.processes.contains { $0.pid == process.pid && $0.startNanoseconds < process.startNanoseconds }
            var birth = earlierImages ? nil : forkTime[process.pid]
            if birth == nil {
                // The last exec before the runtime started in this image, if it came after the previous image.
                let previousEnd = tables.processes.filter { $0.pid == process.pid && $0.startNanoseconds < process.startNanoseconds }
                    .map { $0.startNanoseconds }.max() ?? 0
                birth = execTimes[process.pid]?.last { $0 <= process.startNanoseconds && $0 > previousEnd }
            }
            if let birth, birth < process.startNanoseconds { tables.processes[i].startNanoseconds = birth }
        }
    }

    /// How each process without an exit record ended: the wait status its
    /// parent (or the recorder, as subreaper) collected; and when, from perf.
    mutating func applyWaitStatuses(_ scan: SessionScan) {
        var statuses = scan.reapedByWait
        for (pid, status) in facts.reapedStatus { statuses[pid] = status }
        // A failed posix_spawn's child: glibc's exit(127), reaped inside glibc.
        for spawn in scan.failedSpawns {
            for process in tables.processes where process.ppid == spawn.pid && process.image == 0 && !process.instrumented
                && statuses[process.pid] == nil && process.startNanoseconds >= spawn.start && process.startNanoseconds <= spawn.end {
                statuses[process.pid] = 127 << 8
            }
        }
        var exitTime: [Int32: UInt64] = [:]
        for exit in facts.perf?.exits ?? [] where exit.pid == exit.tid { exitTime[exit.pid] = time(monotonic: exit.time) }
        var lastImage: [Int32: Int] = [:]
        for process in tables.processes where lastImage[process.pid].map({ tables.processes[$0].image < process.image }) ?? true {
            lastImage[process.pid] = process.index
        }
        for (pid, index) in lastImage {
            var process = tables.processes[index]
            if process.exitKind == .unknown || process.exitKind == .waitStatus, let status = statuses[pid] {
                if status & 0x7f == 0 {
                    process.exitKind = .waitStatus
                    process.exitStatus = (status >> 8) & 0xff
                } else {
                    process.exitKind = .signal
                    process.exitStatus = status & 0x7f
                }
            }
            if let exit = exitTime[pid], exit >= process.startNanoseconds,
               process.exitKind == .signal || process.exitKind == .waitStatus || process.exitKind == .unknown || !process.instrumented {
                process.endNanoseconds = exit
            }
            tables.processes[index] = process
        }
    }

    /// Splits each perf thread's switches among the trace threads with its tid
    /// (one per image: exec keeps the tid), and adds a thread for every tid
    /// the runtime never saw (threads of uninstrumented processes).
    mutating func assignSwitchesToThreads() {
        guard let perf = facts.perf else { return }
        var lastComm: [Int32: String] = [:]
        for comm in perf.comms { lastComm[comm.tid] = comm.name }
        var exitTime: [Int32: UInt64] = [:]
        for exit in perf.exits { exitTime[exit.tid] = time(monotonic: exit.time) }
        // Every uninstrumented image has its main thread, even one that ran
        // without a switch until its exit.
        for process in tables.processes where !process.instrumented
            && !tables.threads.contains(where: { $0.process == process.index && $0.tid == process.pid }) {
            _ = addThread(tid: process.pid, process: process.index, name: lastComm[process.pid] ?? process.shortName,
                          start: process.startNanoseconds, end: process.endNanoseconds)
        }
        var exits: [Int32: [UInt64]] = [:]
        for exit in perf.exits { exits[exit.tid, default: []].append(exit.time) }
        var clones: [Int32: [UInt64]] = [:]
        for fork in perf.forks where fork.pid != fork.tid { clones[fork.tid, default: []].append(time(monotonic: fork.time)) }
        var threadsOfTid: [Int32: [Int]] = [:]
        for thread in tables.threads { threadsOfTid[thread.tid, default: []].append(thread.index) }
        for (tid, switches) in perf.switches.sorted(by: { $0.key < $1.key }) {
            guard let first = switches.first else { continue }
            var candidates = (threadsOfTid[tid] ?? []).sorted { tables.threads[$0].startNanoseconds < tables.threads[$1].startNanoseconds }
            // Other threads of an uninstrumented image (its main thread exists already).
            let pid = perf.pidOfThread[tid] ?? tid
            for process in tables.processes where !process.instrumented && process.pid == pid && tid != pid {
                guard let firstInside = switches.first(where: { time(monotonic: $0.time) >= process.startNanoseconds }),
                      time(monotonic: firstInside.time) < (process.endNanoseconds ?? endTime),
                      !candidates.contains(where: { tables.threads[$0].process == process.index }) else { continue }
                candidates.append(addThread(tid: tid, process: process.index, name: lastComm[tid] ?? process.shortName,
                                            start: time(monotonic: firstInside.time), end: exitTime[tid] ?? process.endNanoseconds))
            }
            if candidates.isEmpty {
                // A thread the runtime did not see (raw clone): put it in its process's image of that time.
                let at = time(monotonic: first.time)
                guard let process = tables.processes.last(where: { $0.pid == pid && $0.startNanoseconds <= at })
                    ?? tables.processes.first(where: { $0.pid == pid }) else { continue }
                candidates.append(addThread(tid: tid, process: process.index, name: lastComm[tid] ?? "", start: at,
                                            end: exitTime[tid] ?? process.endNanoseconds))
            }
            // An image's main thread owns its tid from the exec (its process's
            // start), not only from the runtime's constructor: the switches in
            // between are the new image's, not the one exec replaced.
            func from(_ thread: Int) -> UInt64 {
                let t = tables.threads[thread]
                return t.tid == tables.processes[t.process].pid ? min(t.startNanoseconds, tables.processes[t.process].startNanoseconds) : t.startNanoseconds
            }
            candidates.sort { from($0) < from($1) }
            // A later thread with a reused tid owns it from its clone (perf's
            // fork record), which runs a little before its start record, once
            // the thread before it has ended.
            var owner = candidates.map(from)
            for i in candidates.indices.dropFirst() {
                let t = tables.threads[candidates[i]], before = tables.threads[candidates[i - 1]]
                guard t.tid != tables.processes[t.process].pid, let end = before.endNanoseconds,
                      let clone = clones[tid]?.last(where: { $0 <= t.startNanoseconds }), clone > end else { continue }
                owner[i] = clone
            }
            var k = 0
            for s in switches {
                let at = time(monotonic: s.time)
                while k + 1 < candidates.count, owner[k + 1] <= at { k += 1 }
                switchesByThread[candidates[k], default: []].append(s)
            }
            // perf records no switch-out for a thread's last time off the CPU, its
            // exit (the events it inherited are gone by then): a thread last seen
            // going onto a CPU ran until its exit record. Without this, the
            // exit path (after THREAD_END: key destructors, the kernel's exit)
            // was off-CPU time: 3000 short threads showed half their CPU time.
            for (i, thread) in candidates.enumerated() {
                guard let last = switchesByThread[thread]?.last, last.isIn,
                      let exit = exits[tid]?.first(where: { $0 >= last.time }),
                      i + 1 == candidates.count || time(monotonic: exit) < owner[i + 1] else { continue }
                switchesByThread[thread]?.append(PerfData.Switch(time: exit, cpu: last.cpu, isIn: false, preempted: false))
            }
        }
    }

    private mutating func addThread(tid: Int32, process: Int, name: String, start: UInt64, end: UInt64?) -> Int {
        let index = tables.threads.count
        _ = intern(name)
        tables.threads.append(ThreadInfo(index: index, process: process, tid: tid, name: name, creator: nil,
                                         startNanoseconds: start, endNanoseconds: end, endKind: .unknown, cpuNanoseconds: nil))
        return index
    }

    /// The scheduling events of `thread`, as trace events in time order.
    /// Perf's switches of a thread as its events (`time(monotonic:)` of each).
    static func schedulingEvents(_ switches: [PerfData.Switch], thread: Int, epochMonotonic: UInt64) -> [TraceEvent] {
        switches.map { s in
            TraceEvent(time: traceTime(s.time, epoch: epochMonotonic), thread: thread,
                       kind: s.isIn ? .cpuIn(cpu: Int(s.cpu)) : .cpuOut(cpu: Int(s.cpu), preempted: s.preempted))
        }
    }
}
