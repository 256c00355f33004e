/// A lock's waiting threads in arrival order, for `ReplaySimulator`: taking the first
/// moves an index instead of the others (an array's `removeFirst` shifted them, a
/// `memmove` per hand-off: ~4% of a dense Python report's replay).
struct WaiterQueue {
    private var items: [Int] = []
    private var head = 0

    init() {}

    init(_ threads: [Int]) { items = threads }

    var isEmpty: Bool { head == items.count }

    var first: Int? { isEmpty ? nil : items[head] }

    /// The waiters, first to arrive first.
    var inOrder: ArraySlice<Int> { items[head...] }

    mutating func append(_ thread: Int) { items.append(thread) }

    /// Takes `thread` out of the queue, wherever it is (its process ended).
    mutating func remove(_ thread: Int) {
        guard let i = items[head...].firstIndex(of: thread) else { return }
        items.remove(at: i)
    }

    @discardableResult
    mutating func removeFirst() -> Int {
        let thread = items[head]
        head += 1
        if head == items.count {
            // Empty again (the usual case: a few threads take turns): start over in place.
            items.removeAllKeepingStorage()
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return thread
    }
}
