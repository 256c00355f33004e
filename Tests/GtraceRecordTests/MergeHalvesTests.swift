import Testing
@testable import GtraceRecord

/// Where the merge cuts the threads for its two converters: two runs of
/// records of similar size, or no cut when one side would keep over 60%.
@Suite struct MergeHalvesTests {
    @Test func cutsIntoSimilarHalvesOrNotAtAll() {
        #expect(TraceBuilder.halves([]) == nil)
        #expect(TraceBuilder.halves([10]) == nil)
        #expect(TraceBuilder.halves([5, 5]) == 1)
        #expect(TraceBuilder.halves([1, 9]) == nil)          // one thread holds 90%
        #expect(TraceBuilder.halves([3, 3, 4]) == 2)         // 6 | 4: 60%
        #expect(TraceBuilder.halves([1, 1, 1, 1, 6]) == 4)   // 4 | 6: 60%
        #expect(TraceBuilder.halves([1, 1, 1, 7]) == nil)    // 3 | 7: 70%
        #expect(TraceBuilder.halves([0, 0, 0]) == nil)       // no records
    }
}
