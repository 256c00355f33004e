import GtraceFormat

/// HotSpot parks a thread on its own condition variable (PlatformEvent /
/// Parker), so its waits have no per-object lock; the frame above the park
/// says why it waited (docs/METRICS.md, "JVM monitor waits"). Grouped from
/// the condition waits' call sites.
public struct JVMMonitorStatistics: Sendable, Codable, Equatable {
    public struct Group: Sendable, Codable, Equatable {
        /// "JVM monitor waits (synchronized)", "Object.wait", "LockSupport.park", "other JVM parks".
        public var name: String
        public var waits: Int = 0
        public var waitNanoseconds: UInt64 = 0
        /// Condition variables with waits in the group: HotSpot parks each thread on its own,
        /// so this counts the threads that waited (a thread has one per kind of park).
        public var threads: Int = 0
        /// The call sites in the group, the most waited-at first.
        public var sites: [String] = []
    }

    /// Contended `synchronized` entries: ObjectMonitor::EnterI / ReenterI.
    public var monitorEntry = Group(name: "JVM monitor waits (synchronized)")
    /// Object.wait(): ObjectMonitor::wait.
    public var objectWait = Group(name: "Object.wait")
    /// java.util.concurrent locks and LockSupport.park: Unsafe_Park / Parker::park.
    public var park = Group(name: "LockSupport.park")
    /// Any other wait whose site is in libjvm.so (VM threads, GC, sleep...).
    public var other = Group(name: "other JVM parks")

    public var groups: [Group] { [monitorEntry, objectWait, park, other] }

    static func compute(conditions: [ConditionStatistics]) -> JVMMonitorStatistics? {
        var out = JVMMonitorStatistics()
        var seen = false
        var siteTotals: [String: UInt64] = [:]
        for c in conditions {
            var counted: Set<String> = []
            for site in c.callSites where site.site.hasSuffix(" (libjvm.so)") {
                seen = true
                siteTotals[site.site] = siteTotals[site.site, default: 0].adding(saturating: site.waitNanoseconds)
                func add(_ g: inout Group) {
                    if counted.insert(g.name).inserted { g.threads += 1 }
                    g.waits += site.waits
                    g.waitNanoseconds = g.waitNanoseconds.adding(saturating: site.waitNanoseconds)
                    if !g.sites.contains(site.site) { g.sites.append(site.site) }
                }
                if site.site.hasPrefix("ObjectMonitor::EnterI") || site.site.hasPrefix("ObjectMonitor::ReenterI") {
                    add(&out.monitorEntry)
                } else if site.site.hasPrefix("ObjectMonitor::wait") {
                    add(&out.objectWait)
                } else if site.site.hasPrefix("Unsafe_Park") || site.site.hasPrefix("Parker::park") {
                    add(&out.park)
                } else {
                    add(&out.other)
                }
            }
        }
        guard seen else { return nil }
        for keyPath in [\JVMMonitorStatistics.monitorEntry, \.objectWait, \.park, \.other] {
            out[keyPath: keyPath].sites.sort { (siteTotals[$0] ?? 0, $1) > (siteTotals[$1] ?? 0, $0) }
            out[keyPath: keyPath].sites = Array(out[keyPath: keyPath].sites.prefix(5))
        }
        return out
    }
}
