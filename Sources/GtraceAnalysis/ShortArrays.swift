extension Array {
    /// Empties an array of a few elements and keeps its storage. `removeAll(keepingCapacity:)`
    /// goes through the general `replaceSubrange` and a `memmove`: done per event or per
    /// replay step it was 3–8% of a report. (Byte buffers keep `removeAll`: one call per flush.)
    @inline(__always)
    mutating func removeAllKeepingStorage() {
        while !isEmpty { removeLast() }
    }
}
