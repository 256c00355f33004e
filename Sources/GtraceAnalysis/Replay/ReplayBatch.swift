import Dispatch

/// Runs replay simulations side by side, one per core: each scenario replays the
/// same program on its own and reads nothing the others write, so the outcomes are
/// those of running them one after another (a report replays 8–18 of them).
enum ReplayBatch {
    static func run(_ program: ReplayProgram, _ scenarios: [ReplayScenario]) -> [ReplaySimulator.Outcome] {
        let results = Results(count: scenarios.count)
        DispatchQueue.concurrentPerform(iterations: scenarios.count) { i in
            var simulator = ReplaySimulator(program: program, scenario: scenarios[i])
            results.set(i, simulator.run())
        }
        return results.values.map { $0! }
    }

    /// One slot per scenario, each written by exactly one iteration before
    /// concurrentPerform returns (which orders those writes before the read).
    private final class Results: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<ReplaySimulator.Outcome?>
        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }
        deinit {
            _ = slots.deinitialize()
            slots.deallocate()
        }
        func set(_ i: Int, _ outcome: ReplaySimulator.Outcome) { slots[i] = outcome }
        var values: [ReplaySimulator.Outcome?] { Array(slots) }
    }
}
