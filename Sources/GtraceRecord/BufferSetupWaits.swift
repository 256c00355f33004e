import CGtraceFormat
import GtraceFormat

/// How much of the threads' buffer set-up (each chunk header's `setup_ticks`,
/// wall time from the start of its creation to its end) they spent ready to
/// run while other threads had the CPUs: perf saw them leave a CPU preempted
/// and not yet come back. That part is no cost of recording: the program's
/// other threads ran meanwhile, and the thread would have waited for a CPU at
/// some point anyway. Four Rust threads spinning on a mutex on 2 cores summed
/// 0.2 to 22 ms of set-up for the same 5 chunks over three recordings, which
/// the report called time spent setting up buffers.
extension TraceBuilder {
    /// Nil without perf's switches.
    func bufferSetupRunnableNanoseconds() -> UInt64? {
        guard !switchesByThread.isEmpty, fit.ticksPerNanosecond > 0 else { return nil }
        let headerSize = MemoryLayout<gtrace_buffer_header>.size
        var clock = threadClock
        var total: UInt64 = 0
        for thread in session.threads {
            guard let index = threadIndex[thread.key],
                  let switches = switchesByThread[index], !switches.isEmpty else { continue }
            let runnable = Self.runnableSpans(switches, epoch: facts.epochMonotonic)
            guard !runnable.isEmpty else { continue }
            for chunk in thread.chunks where SessionContents.ThreadRecords.slots(in: chunk) > 0 {
                let header = chunk.bytes.loadUnaligned(as: gtrace_buffer_header.self)
                // The set-up ends as the chunk's first record is written.
                let first = chunk.bytes.loadUnaligned(fromByteOffset: headerSize, as: gtrace_raw_record.self)
                guard first.kind != 0 else { continue }
                let end = clock.time(first.tsc)
                let length = UInt64(Double(header.setup_ticks) / fit.ticksPerNanosecond)
                total += Self.overlap(runnable, from: end > length ? end - length : 0, to: end)
            }
        }
        return total
    }

    /// A thread's spans ready to run and off the CPU (trace times), in order.
    static func runnableSpans(_ switches: [PerfData.Switch], epoch: UInt64) -> [(start: UInt64, end: UInt64)] {
        var spans: [(start: UInt64, end: UInt64)] = []
        var since: UInt64?
        for s in switches {
            let t = traceTime(s.time, epoch: epoch)
            if s.isIn {
                if let start = since, t > start { spans.append((start, t)) }
                since = nil
            } else if s.preempted {
                since = t
            } else {
                since = nil
            }
        }
        return spans
    }

    /// How much of [from, to] the ordered spans cover.
    static func overlap(_ spans: [(start: UInt64, end: UInt64)], from: UInt64, to: UInt64) -> UInt64 {
        // The first span that ends after `from`, by bisection.
        var lo = 0, hi = spans.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if spans[mid].end <= from { lo = mid + 1 } else { hi = mid }
        }
        var covered: UInt64 = 0
        var i = lo
        while i < spans.count, spans[i].start < to {
            let a = max(spans[i].start, from), b = min(spans[i].end, to)
            if b > a { covered += b - a }
            i += 1
        }
        return covered
    }
}
