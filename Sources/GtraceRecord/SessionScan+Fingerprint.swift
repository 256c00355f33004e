import CGtraceFormat

extension SessionScan {
    /// Every result of the scan as text, in a fixed order: two scans that
    /// find the same have the same fingerprint (SessionScanTests;
    /// GTRACE_CHECK_LIVE_SCAN=1 compares the live-assisted scan with a full one).
    var fingerprint: String {
        func sorted<K, V>(_ d: [K: V], _ show: (V) -> String) -> String {
            d.map { "\($0.key)=\(show($0.value))" }.sorted().joined(separator: " ")
        }
        func r(_ x: gtrace_raw_record) -> String { "\(x.tsc)/\(x.kind)/\(x.flags)/\(x.u32)/\(x.addr)/\(x.arg)" }
        return [
            sorted(imageStart) { "\($0)" }, sorted(imageExit, r), sorted(threadStart) { "\($0)" },
            sorted(threadEnd, r), sorted(threadNames) { "\($0)" }, sorted(lockFirstSeen) { sorted($0) { "\($0)" } },
            sorted(gilInfo, r), sorted(gilStats) { $0.map(r).joined(separator: ",") },
            sorted(gilBaseline) { $0.map(r).joined(separator: ",") }, sorted(gilThreadStateCounts) { $0.map(r).joined(separator: ",") },
            sorted(firstGILEvent) { "\($0)" }, sorted(firstEvent) { "\($0)" }, sorted(lastEvent) { "\($0)" },
            "\(unordered.map { "\($0)" }.sorted())", "loss \(loss.total) \(loss.causes)",
            sorted(reapedByWait) { "\($0)" }, "\(failedSpawns)",
            sorted(pythonCodes) { sorted($0) { "\($0.name)|\($0.file)|\($0.firstLine)@\($0.time)" } },
            sorted(pythonReferences) { "\($0.map { "\($0)" }.sorted())" },
            "\(recordsPerThread)", "\(clockPairs)",
        ].joined(separator: "\n")
    }
}
