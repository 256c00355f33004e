/// A key of a `Recent` cache: a value no real key has (marks an empty slot)
/// and a slot number in 0..<64.
protocol RecentKey: Equatable {
    static var empty: Self { get }
    var slot: Int { get }
}

/// A small direct-mapped cache of values by key in front of a lookup that
/// hashes: one thread's records cycle through a few lock addresses (node's
/// threads alternate between a dozen locks) and a few Python code objects, so
/// most records find theirs here. The cache never changes what the lookup
/// returns.
struct Recent<Key: RecentKey, Value> {
    private static var slots: Int { 64 }
    private var keys = [Key](repeating: .empty, count: slots)
    private var values = [Value?](repeating: nil, count: slots)

    /// `lookUp(key)`, from the cache when it holds `key`.
    @inline(__always)
    mutating func value(_ key: Key, _ lookUp: (Key) -> Value) -> Value {
        guard key != .empty else { return lookUp(key) }
        let slot = key.slot
        if keys[slot] == key, let value = values[slot] { return value }
        let value = lookUp(key)
        keys[slot] = key
        values[slot] = value
        return value
    }

    /// True when `key` was seen recently; else remembers it and returns false.
    @inline(__always)
    mutating func isRecent(_ key: Key) -> Bool {
        guard key != .empty else { return false }
        let slot = key.slot
        if keys[slot] == key { return true }
        keys[slot] = key
        return false
    }
}

/// Lock indices (or first uses) by lock address.
typealias RecentAddresses = Recent<UInt64, Int>
/// Python code indices (or references) by code object.
typealias RecentCodes = Recent<PythonCodeKey, Int?>

extension UInt64: RecentKey {
    static var empty: UInt64 { .max }
    var slot: Int { Int(truncatingIfNeeded: (self >> 3 ^ self >> 9) & 63) }
}

extension PythonCodeKey: RecentKey {
    static var empty: PythonCodeKey { PythonCodeKey(address: .max, identity: .max) }
    var slot: Int { Int(truncatingIfNeeded: (address >> 4 ^ address >> 10 ^ identity) & 63) }
}
