import Testing
@testable import GtraceRecord

/// The part of a buffer's set-up its thread spent ready to run, off a CPU:
/// from a preempted switch-out to the next switch-in, not from a sleep.
@Suite struct BufferSetupWaitsTests {
    static func s(_ time: UInt64, in isIn: Bool, preempted: Bool = false) -> PerfData.Switch {
        PerfData.Switch(time: time, cpu: 0, isIn: isIn, preempted: preempted)
    }

    @Test func onlyPreemptedStretchesAreRunnable() {
        let switches = [Self.s(1_100, in: true), Self.s(1_200, in: false, preempted: true), Self.s(1_500, in: true),
                        Self.s(1_600, in: false), Self.s(1_900, in: true),  // a sleep: not runnable
                        Self.s(2_000, in: false, preempted: true)]          // never back: no end, no span
        let spans = TraceBuilder.runnableSpans(switches, epoch: 1_000)
        #expect(spans.map(\.start) == [200] && spans.map(\.end) == [500])
    }

    @Test func overlapCountsOnlyTheSetUpsPart() {
        let spans: [(start: UInt64, end: UInt64)] = [(100, 200), (300, 400), (500, 900)]
        #expect(TraceBuilder.overlap(spans, from: 0, to: 1_000) == 600)
        #expect(TraceBuilder.overlap(spans, from: 150, to: 350) == 100)
        #expect(TraceBuilder.overlap(spans, from: 200, to: 300) == 0)
        #expect(TraceBuilder.overlap(spans, from: 950, to: 2_000) == 0)
        #expect(TraceBuilder.overlap([], from: 0, to: 10) == 0)
    }
}
