/// Arithmetic on values from a trace file: a hostile or broken file must give
/// a wrong-but-bounded number, never an overflow trap (RELIABILITY.md item 4).
extension UInt64 {
    /// `self + other`, or UInt64.max when that overflows.
    @inline(__always) func adding(saturating other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    /// `self * other`, or UInt64.max when that overflows.
    @inline(__always) func multiplied(saturating other: UInt64) -> UInt64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : product
    }
}

extension Sequence where Element == UInt64 {
    /// The sum, saturating at UInt64.max.
    var saturatingSum: UInt64 { reduce(0) { $0.adding(saturating: $1) } }
}

extension UInt64 {
    /// `value` rounded down, 0 for NaN and negatives, UInt64.max past it.
    init(saturating value: Double) {
        self = value.isNaN || value <= 0 ? 0 : value >= 18_446_744_073_709_551_615.0 ? .max : UInt64(value)
    }
}
