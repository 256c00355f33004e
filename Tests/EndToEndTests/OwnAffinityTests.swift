import Foundation
import Testing

/// A command that pins itself (`gtrace record -- taskset -c 0 …`): the recorder reads its
/// own affinity before the spawn and counts the machine's CPUs. Two computing threads
/// were "Serial parts: 2 workers on 2 cores reached parallelism 1.00" and "Wake-ups cost
/// this run about 149 ms" from 2 wake-ups of 20 µs. The verdict says the threads ran on
/// one CPU while another stayed idle, and says nothing of wake-ups; unpinned, neither.
@Suite(.serialized) struct OwnAffinityTests {
    typealias S = SchedulingTests

    @Test func aCommandThatPinsItselfIsToldApartFromSerialWork() throws {
        guard S.perfAllowed, ProcessInfo.processInfo.activeProcessorCount >= 2 else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("timer_thread", in: dir)
        for pinned in [true, false] {
            let trace = "\(dir)/\(pinned).data"
            let command = (pinned ? ["/usr/bin/taskset", "-c", "0"] : []) + [workload, "join", "150000000"]
            let recorded = try Harness.gtrace(["record", "-o", trace, "--"] + command)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let verdict = (try Harness.reportJSON(trace)["verdict"] as? [String] ?? []).joined(separator: "\n")
            #expect(verdict.contains("Its threads ran on only 1 of the") == pinned, "pinned \(pinned): \(verdict)")
            #expect(!verdict.contains("Wake-ups cost"), "pinned \(pinned): \(verdict)")
        }
    }
}
