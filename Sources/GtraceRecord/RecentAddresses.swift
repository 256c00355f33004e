/// A small direct-mapped cache of values by address in front of a lookup
/// that hashes: one thread's lock records cycle through a few addresses
/// (node's threads alternate between a dozen locks), so most records find
/// their lock here. The cache never changes what the lookup returns.
struct RecentAddresses {
    private static let slots = 64
    private var addresses = [UInt64](repeating: .max, count: slots)
    private var values = [Int](repeating: 0, count: slots)

    @inline(__always)
    private static func slot(_ address: UInt64) -> Int {
        Int(truncatingIfNeeded: (address >> 3 ^ address >> 9) & UInt64(slots - 1))
    }

    /// `lookUp(address)`, from the cache when it holds `address`.
    @inline(__always)
    mutating func value(_ address: UInt64, _ lookUp: (UInt64) -> Int) -> Int {
        guard address != .max else { return lookUp(address) }  // .max marks an empty slot
        let slot = Self.slot(address)
        if addresses[slot] == address { return values[slot] }
        let value = lookUp(address)
        addresses[slot] = address
        values[slot] = value
        return value
    }

    /// True when `address` was seen recently; else remembers it and returns false.
    @inline(__always)
    mutating func isRecent(_ address: UInt64) -> Bool {
        guard address != .max else { return false }
        let slot = Self.slot(address)
        if addresses[slot] == address { return true }
        addresses[slot] = address
        return false
    }
}
