/// A log-linear histogram of nanosecond durations: 32 sub-buckets per power of
/// two, so a reported percentile is within 1.6% of the true value, in fixed
/// memory (values below 32 are exact).
public struct LogHistogram: Sendable {
    private static let subBucketBits = 5
    private static let subBuckets = 1 << subBucketBits
    private var counts: [Int] = []
    public private(set) var count = 0

    public init() {}

    public mutating func record(_ value: UInt64) {
        if counts.isEmpty { counts = Array(repeating: 0, count: 64 * Self.subBuckets) }
        counts[Self.bucket(value)] += 1
        count += 1
    }

    /// The value at quantile `q` (0...1): the midpoint of its bucket; 0 when empty.
    public func percentile(_ q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (index, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return Self.midpoint(index) }
        }
        return 0
    }

    static func bucket(_ value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount          // >= subBucketBits
        let shift = exponent - subBucketBits
        let mantissa = Int((value >> UInt64(shift)) & UInt64(subBuckets - 1))
        return (shift + 1) * subBuckets + mantissa
    }

    static func midpoint(_ index: Int) -> UInt64 {
        if index < subBuckets { return UInt64(index) }
        let shift = index / subBuckets - 1
        let mantissa = UInt64(index % subBuckets) | UInt64(subBuckets)
        let low = mantissa << UInt64(shift)
        return low + ((UInt64(1) << UInt64(shift)) >> 1)
    }
}
