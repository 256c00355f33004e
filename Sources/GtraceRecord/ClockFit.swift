/// Raw timestamps (TSC ticks) to CLOCK_MONOTONIC nanoseconds, from the
/// (tsc, monotonic) pairs every process and the recorder read: a
/// least-squares line, corrected piecewise by knots that follow the pairs'
/// residual along the recording. The TSC's rate against CLOCK_MONOTONIC is not
/// constant (NTP slews the clock): one line drifted up to 486 µs over
/// 10 minutes (RELIABILITY item 19), which misplaces lock events against
/// perf's switch records (CLOCK_MONOTONIC).
public struct ClockFit: Sendable {
    let tscOrigin: Double
    var monotonicOrigin: Double
    /// Nanoseconds per tick.
    let slope: Double
    /// (tsc, residual ns) in tsc order: the correction, linear between knots,
    /// constant beyond the first and the last.
    let knots: [(tsc: Double, residual: Double)]
    /// The largest distance of a pair from the fitted clock.
    public let maxResidualNanoseconds: UInt64
    public let ticksPerNanosecond: Double

    /// Pairs within this much CLOCK_MONOTONIC time of a window's first make one knot.
    static let knotSpacingNanoseconds = 200_000_000.0

    /// Fits `pairs` (tsc, monotonic ns). With fewer than two distinct pairs, or
    /// when timestamps are already nanoseconds, the identity is used.
    public init(pairs: [(tsc: UInt64, monotonic: UInt64)], timestampsAreTSC: Bool) {
        guard timestampsAreTSC, pairs.count >= 2,
              let minTSC = pairs.map(\.tsc).min(), let maxTSC = pairs.map(\.tsc).max(), maxTSC > minTSC else {
            tscOrigin = 0
            monotonicOrigin = 0
            slope = 1
            knots = []
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
        ticksPerNanosecond = slope > 0 ? 1 / slope : 0
        // Residuals from the line, in tsc order; one knot per window at the window's median
        // residual (a pair read while its reader was preempted sits far off: the median ignores it).
        let residuals = xs.indices.map { (tsc: x0 + xs[$0], residual: (ys[$0] - meanY) - slope * (xs[$0] - meanX)) }
            .sorted { $0.tsc < $1.tsc }
        var knots: [(tsc: Double, residual: Double)] = []
        var window: [(tsc: Double, residual: Double)] = []
        func close() {
            guard !window.isEmpty else { return }
            let middle = window[window.count / 2].tsc
            let median = window.map(\.residual).sorted()[window.count / 2]
            // The correction may never make the clock run backwards between knots.
            if let last = knots.last, abs(median - last.residual) >= 0.5 * slope * (middle - last.tsc) {
                window.removeAll()
                return
            }
            knots.append((middle, median))
            window.removeAll()
        }
        for pair in residuals {
            if let first = window.first, slope * (pair.tsc - first.tsc) > Self.knotSpacingNanoseconds { close() }
            window.append(pair)
        }
        close()
        var worst = 0.0
        for pair in residuals {
            worst = max(worst, abs(pair.residual - Self.correction(at: pair.tsc, knots)))
        }
        maxResidualNanoseconds = UInt64(worst.rounded())
        // One knot is a constant: folded into the line, a short recording pays nothing per event.
        if knots.count == 1 {
            monotonicOrigin += knots[0].residual
            self.knots = []
        } else {
            self.knots = knots
        }
    }

    /// The knots' correction at `tsc`.
    static func correction(at tsc: Double, _ knots: [(tsc: Double, residual: Double)]) -> Double {
        var segment = 0
        return correction(at: tsc, knots, segment: &segment)
    }

    /// The same, starting from the knot `segment` that held the previous time
    /// (a thread's timestamps mostly increase: no search), and leaving there
    /// the last knot at or before `tsc`.
    @inline(__always)
    static func correction(at tsc: Double, _ knots: [(tsc: Double, residual: Double)], segment: inout Int) -> Double {
        guard let first = knots.first, let last = knots.last else { return 0 }
        if tsc <= first.tsc { return first.residual }
        if tsc >= last.tsc { return last.residual }
        var low = segment
        if !(low + 1 < knots.count && knots[low].tsc <= tsc && tsc < knots[low + 1].tsc) {
            // The last knot at or before tsc (binary search).
            low = 0
            var high = knots.count - 1
            while high - low > 1 {
                let middle = (low + high) / 2
                if knots[middle].tsc <= tsc { low = middle } else { high = middle }
            }
            segment = low
        }
        let a = knots[low], b = knots[low + 1]
        return a.residual + (b.residual - a.residual) * (tsc - a.tsc) / (b.tsc - a.tsc)
    }

    /// CLOCK_MONOTONIC nanoseconds of raw timestamp `tsc`.
    public func monotonic(_ tsc: UInt64) -> UInt64 {
        var segment = 0
        return monotonic(tsc, segment: &segment)
    }

    /// The same, with the knot segment of the previous call (see `Cursor`).
    @inline(__always)
    func monotonic(_ tsc: UInt64, segment: inout Int) -> UInt64 {
        let x = Double(tsc)
        let value = monotonicOrigin + slope * (x - tscOrigin) + Self.correction(at: x, knots, segment: &segment)
        return value <= 0 ? 0 : UInt64(value)
    }

    /// Converts one thread's timestamps: the same values as `monotonic`,
    /// without a search per timestamp (and without any for a repeated one).
    public struct Cursor {
        let fit: ClockFit
        private var segment = 0
        private var lastTSC: UInt64 = 0
        private var lastValue: UInt64?

        public init(_ fit: ClockFit) {
            self.fit = fit
        }

        public mutating func monotonic(_ tsc: UInt64) -> UInt64 {
            if tsc == lastTSC, let lastValue { return lastValue }
            let value = fit.monotonic(tsc, segment: &segment)
            (lastTSC, lastValue) = (tsc, value)
            return value
        }
    }
}
