import Foundation

/// The threads that make up the critical path, for "Serial parts": a length alone does not
/// say what to change. A pyenv user's `gtrace record -- python3 x.py` (4 threads hashing,
/// in parallel outside the GIL) was "Serial parts: … the critical path is 308 ms (70% of
/// the wall time)", and 100 ms of it was the shim's bash before it exec'd Python; the
/// threads were named only in `--details`.
extension Verdict {
    /// Threads on the path with at least this share of its length are named, at most three.
    static let criticalPathThreadShare = 0.1

    static func criticalPathThreadsText(_ c: CriticalPathSummary) -> String {
        let length = Double(max(c.lengthNanoseconds, 1))
        let named = c.threads.sorted { ($0.nanoseconds, $1.tid) > ($1.nanoseconds, $0.tid) }
            .filter { Double($0.nanoseconds) >= criticalPathThreadShare * length }.prefix(3)
        guard !named.isEmpty else { return "" }
        let parts = named.map { t -> String in
            let name = t.name.isEmpty ? "" : t.name + ", "
            let who = t.tid == t.pid ? "process \(t.pid)\(t.name.isEmpty ? "" : " (\(t.name))")" : "thread \(t.tid) (\(name)process \(t.pid))"
            return "\(who) \(duration(t.nanoseconds))"
        }
        let list = parts.count == 1 ? parts[0] : parts.dropLast().joined(separator: ", ") + " and " + parts.last!
        return ", along " + list
    }
}
