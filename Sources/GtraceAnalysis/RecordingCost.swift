import GtraceFormat

/// What recording cost the run, at least (docs/METRICS.md, "Recording cost"):
/// the runtime's records times the least one record costs on the recording
/// machine (`record` times a record's bare work after the run: a timestamp,
/// an atomic slot, 32 bytes stored). Each record costs more in the program
/// (the interposer, the lock's protocol, Python frames), so this is a lower
/// bound: CPython's `sqlite3` inserting 200 k rows in one thread wrote 8.0 M
/// records at ≥ 9.5 ns, a bound of 76 ms; its own CPU time grew by 167 ms.
public struct RecordingCost: Sendable, Codable {
    public var records: UInt64
    public var picosecondsPerRecord: UInt64
    public var leastNanoseconds: UInt64
    /// The threads' wall time setting up their record buffers (the runtime's chunk files:
    /// creating, mapping, unmapping), measured by the runtime; nil in older traces. Threads
    /// that do so at once wait for each other in the kernel (the process's memory-map lock),
    /// off the CPU: 50 processes of 50 short threads spent 66% of their time there.
    public var bufferSetupNanoseconds: UInt64?
    public var bufferChunks: UInt64?

    init?(info: RunInfo) {
        guard let records = info["runtime_records"].flatMap({ UInt64($0) }),
              let cost = info["record_cost_ps"].flatMap({ UInt64($0) }), records > 0, cost > 0 else { return nil }
        self.records = records
        picosecondsPerRecord = cost
        let product = records.multipliedReportingOverflow(by: cost)
        leastNanoseconds = product.overflow ? UInt64.max / 1000 : product.partialValue / 1000
        bufferSetupNanoseconds = info["buffer_setup_ns"].flatMap { UInt64($0) }
        bufferChunks = info["buffer_chunks"].flatMap { UInt64($0) }
    }
}
