import Foundation

/// Reads a (timestamp, CLOCK_MONOTONIC) pair every `interval` while the command
/// runs, so that the clock fit has knots all along a long recording and not
/// only where the runtime happened to record one (thread starts, chunk
/// switches): the raw timestamp's rate against CLOCK_MONOTONIC drifts (NTP
/// slews it), by up to 486 µs over 10 minutes on this VM (RELIABILITY item 19).
/// One pair per 200 ms, the clock fit's knot spacing, each the best of 5
/// back-to-back reads: a sleeping program costs the recorder 5 wake-ups a
/// second here (every 50 ms before: 20).
final class ClockPairSampler: @unchecked Sendable {
    private let interval: TimeInterval
    private let condition = NSCondition()
    private var stopped = false
    private var samples: [(tsc: UInt64, monotonic: UInt64)] = []

    init(interval: TimeInterval = 0.2) {
        self.interval = interval
    }

    func start() {
        let thread = Thread { [self] in
            condition.lock()
            defer { condition.unlock() }
            while !stopped {
                samples.append(Clocks.timestampPair(tries: 5))
                _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
            }
        }
        thread.name = "gtrace clock pairs"
        thread.start()
    }

    /// Stops sampling; returns the pairs read.
    func stop() -> [(tsc: UInt64, monotonic: UInt64)] {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.signal()
        return samples
    }
}
