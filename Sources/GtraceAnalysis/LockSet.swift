/// A set of lock indices (dense, 0..<locks) as one flag per lock: membership
/// is asked at every lock event, where hashing an `Int` cost more than the rest
/// of the lookup.
struct LockSet: Sendable {
    private var flags: [Bool] = []

    init<S: Sequence>(_ locks: S) where S.Element == Int {
        for lock in locks where lock >= 0 && lock < 1 << 24 {
            if lock >= flags.count { flags += Array(repeating: false, count: lock + 1 - flags.count) }
            flags[lock] = true
        }
    }

    @inline(__always) func contains(_ lock: Int) -> Bool { lock >= 0 && lock < flags.count && flags[lock] }
}
