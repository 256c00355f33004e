/// One line of text per table entry and per event: `gtrace dump`'s output,
/// stable enough for golden tests.
public enum TextDump {
    /// Describes the tables, one entry per line.
    public static func tableLines(_ t: TraceTables) -> [String] {
        var lines = ["format v\(t.version) features 0x\(String(t.features, radix: 16))"]
        for (key, value) in t.info.values { lines.append("info \(key)=\(quoted(value))") }
        lines.append("clock epoch_monotonic_ns=\(t.clock.epochMonotonicNanoseconds) ticks_per_ns=\(t.clock.ticksPerNanosecond) max_residual_ns=\(t.clock.maxResidualNanoseconds) end_ns=\(t.clock.recordingEndNanoseconds)")
        for p in t.processes {
            let parent = p.parent.map(String.init) ?? "-"
            let end = p.endNanoseconds.map { seconds($0) } ?? "-"
            lines.append("process #\(p.index) pid=\(p.pid) ppid=\(p.ppid) parent=\(parent) image=\(p.image) exe=\(quoted(p.executable)) argv=[\(p.arguments.map(quoted).joined(separator: " "))] start=\(seconds(p.startNanoseconds)) end=\(end) exit=\(p.exitKind.label) status=\(p.exitStatus) user_ns=\(p.userCPUNanoseconds) sys_ns=\(p.systemCPUNanoseconds)\(p.instrumented ? "" : " not-instrumented")")
        }
        for th in t.threads {
            let creator = th.creator.map(String.init) ?? "-"
            let end = th.endNanoseconds.map { seconds($0) } ?? "-"
            let cpu = th.cpuNanoseconds.map(String.init) ?? "-"
            lines.append("thread #\(th.index) process=#\(th.process) tid=\(th.tid) name=\(quoted(th.name)) creator=\(creator) start=\(seconds(th.startNanoseconds)) end=\(end) ended=\(th.endKind.label) cpu_ns=\(cpu)")
        }
        for l in t.locks {
            lines.append("lock #\(l.index) process=#\(l.process) \(l.kind.label) \(l.addressText)")
        }
        for g in t.gils {
            let lock = g.lock.map { "#\($0)" } ?? "-"
            let switches = g.switchNumber.map(String.init) ?? "-"
            let interval = g.intervalMicroseconds.map(String.init) ?? "-"
            lines.append("gil process=#\(g.process) python=\(g.version) lock=\(lock) status=0x\(String(g.status.rawValue, radix: 16)) (\(g.status.label)) address=0x\(String(g.address, radix: 16)) runtime=0x\(String(g.runtimeAddress, radix: 16)) switch_number=\(switches) inherited=\(g.inheritedSwitchNumber.map(String.init) ?? "-") same_thread_switches=\(g.sameThreadSwitches.map(String.init) ?? "-") reused_tstates=\(g.reusedThreadStates.map(String.init) ?? "-") interval_us=\(interval)")
        }
        for n in t.lockNames { lines.append("lock-name #\(n.lock) \(quoted(n.name))") }
        for c in t.callSites {
            lines.append("call-site lock=#\(c.lock) \(quoted(c.site)) acquisitions=\(c.acquisitions) waits=\(c.waits) wait_ns=\(c.waitNanoseconds)")
        }
        for c in t.pythonCodes {
            lines.append("python-code #\(c.index) process=#\(c.process) 0x\(String(c.address, radix: 16)) \(quoted(c.qualifiedName)) file=\(quoted(c.file)) line=\(c.firstLine)")
        }
        return lines
    }

    /// Describes one event.
    public static func line(_ e: TraceEvent, tables t: TraceTables) -> String {
        let thread = t.threads.indices.contains(e.thread) ? t.threads[e.thread] : nil
        let pid = thread.flatMap { t.processes.indices.contains($0.process) ? t.processes[$0.process].pid : nil } ?? 0
        let who = "\(pid)/\(thread?.tid ?? 0)"
        return "\(seconds(e.time)) \(who) \(describe(e.kind, tables: t))"
    }

    static func describe(_ kind: EventKind, tables t: TraceTables) -> String {
        func lock(_ id: Int) -> String {
            t.locks.indices.contains(id) ? "#\(id)(\(t.locks[id].addressText))" : "#\(id)"
        }
        func mode(_ flags: LockFlags) -> String {
            var parts: [String] = []
            if flags.contains(.rwlock) { parts.append(flags.contains(.shared) ? "read" : "write") }
            if flags.contains(.viaCondition) { parts.append("via-cond") }
            return parts.isEmpty ? "" : " [" + parts.joined(separator: ",") + "]"
        }
        switch kind {
        case .processStart: return "process-start"
        case let .processExit(kind, status): return "process-exit \(kind.label) status=\(status)"
        case let .threadStart(creator): return "thread-start creator=\(creator.map(String.init) ?? "-")"
        case let .threadEnd(kind, cpu): return "thread-end \(kind.label) cpu_ns=\(cpu)"
        case let .threadName(string):
            return "thread-name \(quoted(t.strings.indices.contains(string) ? t.strings[string] : "?"))"
        case let .fork(childPid): return "fork child=\(childPid)"
        case .exec: return "exec"
        case let .lockAcquire(id, flags): return "acquire \(lock(id))\(mode(flags))"
        case let .lockWait(id, flags): return "wait \(lock(id))\(mode(flags))"
        case let .lockAcquired(id, flags): return "acquired-after-wait \(lock(id))\(mode(flags))"
        case let .lockFailed(id, flags, error): return "acquire-failed \(lock(id))\(mode(flags)) error=\(error)"
        case let .lockRelease(id, flags): return "release \(lock(id))\(mode(flags))"
        case let .lockTryFailed(id, flags): return "trylock-busy \(lock(id))\(mode(flags))"
        case let .conditionWait(cond, mutex): return "cond-wait \(lock(cond)) mutex=\(lock(mutex))"
        case let .conditionWoke(cond, mutex, result): return "cond-woke \(lock(cond)) mutex=\(lock(mutex)) result=\(result)"
        case let .futexWoke(id, result): return "futex-woke \(lock(id)) result=\(result)"
        case let .futexWake(id, result): return "futex-wake \(lock(id)) result=\(result)"
        case let .blockBegin(call, small, argument):
            return "block-begin \(call.label(smallArgument: small, argument: argument))"
                + (argument == UInt64.max ? "" : " arg=\(argument)")
        case let .blockEnd(call, result, detail): return "block-end \(call.name) result=\(result) detail=\(detail)"
        case let .cpuIn(cpu): return "cpu-in cpu=\(cpu)"
        case let .cpuOut(cpu, preempted): return "cpu-out cpu=\(cpu)" + (preempted ? " preempted" : "")
        case let .waker(kind, object, value):
            switch kind {
            case .condSignal, .condBroadcast: return "\(kind.name) \(lock(Int(truncatingIfNeeded: object)))"
            case .ioWrite: return "\(kind.name) object=\(object) fd=\(UInt32(truncatingIfNeeded: value)) bytes=\(WakerKind.writtenBytes(value))"
            default: return "\(kind.name) object=\(object) value=\(value)"
            }
        case let .pythonLocation(frames): return "python " + frameText(frames, t)
        case let .pythonSample(gil, frames): return "python-sample \(lock(gil)) " + frameText(frames, t)
        }
    }

    static func frameText(_ frames: PythonStack, _ t: TraceTables) -> String {
        frames.map { f in
            let code = f.code.flatMap { t.pythonCodes.indices.contains($0) ? t.pythonCodes[$0] : nil }
            return "\(code.map { quoted($0.qualifiedName) } ?? "?"):\(f.line)"
        }.joined(separator: " < ")
    }

    /// Nanoseconds as seconds with 9 decimals.
    public static func seconds(_ ns: UInt64) -> String {
        let frac = String(ns % 1_000_000_000)
        return "\(ns / 1_000_000_000)." + String(repeating: "0", count: 9 - frac.count) + frac
    }

    static func quoted(_ s: String) -> String {
        var out: [UInt8] = [0x22]
        out.reserveCapacity(s.utf8.count + 2)
        for b in s.utf8 {  // byte-wise: a dump quotes a name at every event
            switch b {
            case 0x22: out += [0x5C, 0x22]  // \"
            case 0x5C: out += [0x5C, 0x5C]  // \\
            case 0x0A: out += [0x5C, 0x6E]  // \n
            case 0x09: out += [0x5C, 0x74]  // \t
            case 0..<0x20, 0x7F: out += Array("\\x\(String(b, radix: 16))".utf8)
            default: out.append(b)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }
}
