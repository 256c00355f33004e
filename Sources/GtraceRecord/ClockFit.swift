/// A least-squares line from raw timestamps (TSC ticks) to CLOCK_MONOTONIC
/// nanoseconds, fitted over the (tsc, monotonic) pairs every process records.
public struct ClockFit: Sendable {
    let tscOrigin: Double
    let monotonicOrigin: Double
    /// Nanoseconds per tick.
    let slope: Double
    public let maxResidualNanoseconds: UInt64
    public let ticksPerNanosecond: Double

    /// Fits `pairs` (tsc, monotonic ns). With fewer than two distinct pairs, or
    /// when timestamps are already nanoseconds, the identity is used.
    public init(pairs: [(tsc: UInt64, monotonic: UInt64)], timestampsAreTSC: Bool) {
        guard timestampsAreTSC, pairs.count >= 2,
              let minTSC = pairs.map(\.tsc).min(), let maxTSC = pairs.map(\.tsc).max(), maxTSC > minTSC else {
            tscOrigin = 0
            monotonicOrigin = 0
            slope = 1
            maxResidualNanoseconds = 0
            ticksPerNanosecond = timestampsAreTSC ? 0 : 1
            return
        }
        let n = Double(pairs.count)
        let x0 = Double(pairs[0].tsc), y0 = Double(pairs[0].monotonic)
        let xs = pairs.map { Double($0.tsc) - x0 }
        let ys = pairs.map { Double($0.monotonic) - y0 }
        let meanX = xs.reduce(0, +) / n, meanY = ys.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for i in xs.indices {
            sxy += (xs[i] - meanX) * (ys[i] - meanY)
            sxx += (xs[i] - meanX) * (xs[i] - meanX)
        }
        let slope = sxx > 0 ? sxy / sxx : 1
        self.slope = slope
        tscOrigin = x0 + meanX
        monotonicOrigin = y0 + meanY
        var worst = 0.0
        for i in xs.indices {
            worst = max(worst, abs((ys[i] - meanY) - slope * (xs[i] - meanX)))
        }
        maxResidualNanoseconds = UInt64(worst.rounded())
        ticksPerNanosecond = slope > 0 ? 1 / slope : 0
    }

    /// CLOCK_MONOTONIC nanoseconds of raw timestamp `tsc`.
    public func monotonic(_ tsc: UInt64) -> UInt64 {
        let value = monotonicOrigin + slope * (Double(tsc) - tscOrigin)
        return value <= 0 ? 0 : UInt64(value)
    }
}
