import Testing
@testable import GtraceRecord

/// The piecewise clock fit against clocks whose relation is known exactly.
@Suite struct ClockFitTests {
    /// 10 minutes at 3 ticks per ns whose CLOCK_MONOTONIC drifts quadratically
    /// to 486 µs (the drift RELIABILITY item 19 measured), pairs every 50 ms as
    /// the recorder reads them: every time in between is placed within 2 µs,
    /// where one line is off by more than 100 µs; and the clock never runs backwards.
    @Test func aDriftingClockIsFollowedPiecewise() {
        let seconds = 600.0, drift = 486_000.0
        func truth(_ ns: Double) -> Double { 1e12 + ns + drift * (ns / (seconds * 1e9)) * (ns / (seconds * 1e9)) }
        var pairs: [(tsc: UInt64, monotonic: UInt64)] = []
        var ns = 0.0
        while ns <= seconds * 1e9 {
            pairs.append((UInt64(ns * 3), UInt64(truth(ns))))
            ns += 50e6
        }
        let fit = ClockFit(pairs: pairs, timestampsAreTSC: true)
        #expect(fit.maxResidualNanoseconds < 2_000, "largest residual \(fit.maxResidualNanoseconds) ns")
        var worst = 0.0, previous: UInt64 = 0
        var at = 17e6
        while at < seconds * 1e9 {
            let placed = fit.monotonic(UInt64(at * 3))
            worst = max(worst, abs(Double(placed) - truth(at)))
            #expect(placed >= previous)
            previous = placed
            at += 333e6
        }
        #expect(worst < 2_000, "worst error between pairs \(worst) ns")
        // The single line it replaces.
        let line = ClockFit(pairs: [pairs.first!, pairs.last!], timestampsAreTSC: true)
        #expect(abs(Double(line.monotonic(UInt64(seconds / 2 * 1e9 * 3))) - truth(seconds / 2 * 1e9)) > 100_000)
    }

    /// A pair read while its reader was preempted (40 µs late) among its
    /// neighbours does not move the clock.
    @Test func aLatePairIsOutvoted() {
        var pairs: [(tsc: UInt64, monotonic: UInt64)] = []
        for i in 0..<100 {
            let ns = Double(i) * 50e6
            pairs.append((UInt64(ns * 2), UInt64(5e9 + ns + (i == 41 ? 40_000 : 0))))
        }
        let fit = ClockFit(pairs: pairs, timestampsAreTSC: true)
        let at = 41 * 50e6
        #expect(abs(Double(fit.monotonic(UInt64(at * 2))) - (5e9 + at)) < 1_000)
    }

    /// A cursor (the merge's per-thread converter) gives exactly `monotonic`'s
    /// values: on increasing timestamps, repeated ones, jumps back (a signal
    /// handler's records) and beyond both ends of the knots.
    @Test func aCursorGivesTheSameTimes() {
        func truth(_ ns: Double) -> Double { 1e12 + ns + 300_000 * (ns / 600e9) * (ns / 600e9) }
        let pairs = stride(from: 0.0, through: 600e9, by: 50e6).map { (tsc: UInt64($0 * 3), monotonic: UInt64(truth($0))) }
        let fit = ClockFit(pairs: pairs, timestampsAreTSC: true)
        #expect(fit.knots.count > 100)
        var cursor = ClockFit.Cursor(fit)
        var generator = SystemRandomNumberGenerator()
        var tsc: UInt64 = 0
        var mismatches = 0
        for i in 0..<200_000 {
            switch i % 97 {
            case 0: tsc = UInt64.random(in: 0...(2_000 * 1_000_000_000), using: &generator)  // anywhere, past the last knot too
            case 1: tsc = tsc > 5_000_000 ? tsc - 5_000_000 : 0                              // back a little
            case 2: break                                                                     // the same again
            default: tsc += UInt64.random(in: 0...60_000_000, using: &generator)
            }
            if cursor.monotonic(tsc) != fit.monotonic(tsc) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func nanosecondTimestampsAreTheIdentity() {
        let fit = ClockFit(pairs: [(10, 10), (20, 20)], timestampsAreTSC: false)
        #expect(fit.monotonic(12_345) == 12_345)
    }
}
