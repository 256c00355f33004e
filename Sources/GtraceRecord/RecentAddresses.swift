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

/// The same for Python code objects, by address and identity: a thread's
/// frames name the same few code objects over and over.
struct RecentCodes {
    private static let slots = 64
    private static let empty = PythonCodeKey(address: .max, identity: .max)
    private var keys = [PythonCodeKey](repeating: empty, count: slots)
    private var values = [Int?](repeating: nil, count: slots)

    @inline(__always)
    private static func slot(_ key: PythonCodeKey) -> Int {
        Int(truncatingIfNeeded: (key.address >> 4 ^ key.address >> 10 ^ key.identity) & UInt64(slots - 1))
    }

    /// `lookUp(key)`, from the cache when it holds `key`.
    @inline(__always)
    mutating func value(_ key: PythonCodeKey, _ lookUp: (PythonCodeKey) -> Int?) -> Int? {
        guard key != Self.empty else { return lookUp(key) }
        let slot = Self.slot(key)
        if keys[slot] == key { return values[slot] }
        let value = lookUp(key)
        keys[slot] = key
        values[slot] = value
        return value
    }

    /// True when `key` was seen recently; else remembers it and returns false.
    @inline(__always)
    mutating func isRecent(_ key: PythonCodeKey) -> Bool {
        guard key != Self.empty else { return false }
        let slot = Self.slot(key)
        if keys[slot] == key { return true }
        keys[slot] = key
        return false
    }
}
