/// The trace threads of each tid of a process image, in start order. The
/// kernel reuses a tid once its thread has ended, so one image can have
/// several threads with a tid (SessionReader's generations); a record that
/// names a thread by tid (a new thread's creator) means the one that had
/// started by the record's time.
struct ThreadsByTid {
    private struct Tid: Hashable {
        var image: SessionContents.ImageKey
        var tid: Int32
    }

    private var threads: [Tid: [(start: UInt64, index: Int)]] = [:]

    /// Adds trace thread `index`; call in start order.
    mutating func add(_ key: ThreadKey, start: UInt64, index: Int) {
        threads[Tid(image: key.image, tid: key.tid), default: []].append((start, index))
    }

    /// The thread with `tid` in `image` at `time` (ns): the last to start by then, else the first.
    func index(image: SessionContents.ImageKey, tid: Int32, at time: UInt64) -> Int? {
        guard let list = threads[Tid(image: image, tid: tid)] else { return nil }
        return (list.last { $0.start <= time } ?? list[0]).index
    }
}
