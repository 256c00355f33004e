import GtraceFormat
import Testing
@testable import GtraceRecord

/// Blocks encoded on a second thread are the blocks encoded inline: the same
/// payloads in the same order, for several threads' events cut at the block
/// limit with other threads' name events merged in.
@Suite struct BlockCutterTests {
    static func cut(secondThread: Bool) -> [EncodedBlock] {
        let encoder = BlockEncoder(secondThread: secondThread)
        for thread in 0..<3 {
            let names = (0..<5).map { TraceEvent(time: UInt64($0 * 7_001 + thread), thread: thread, kind: .threadName(string: $0)) }
            var cutter = BlockCutter(thread: thread, interleaving: names, encoder: encoder)
            for i in 0..<(10_000 + 1_000 * thread) {
                let time = UInt64(i * 3 + thread)
                cutter.append(TraceEvent(time: time, thread: thread,
                                         kind: i % 2 == 0 ? .lockAcquire(lock: i % 5, flags: []) : .lockRelease(lock: i % 5, flags: [])))
                if i % 1_000 == 0 {
                    cutter.append(TraceEvent(time: time, thread: thread, kind: .pythonLocation(frames: [PythonFrame(code: i % 3, line: UInt32(i))])))
                }
            }
            cutter.finish()
        }
        return encoder.finish()
    }

    @Test func theSecondThreadEncodesTheSameBlocks() {
        let inline = Self.cut(secondThread: false)
        let threaded = Self.cut(secondThread: true)
        // 3 threads of 10,015 / 11,016 / 12,017 events, 4,096 per block: 3 + 3 + 3 blocks.
        let events: Int = inline.map(\.eventCount).reduce(0, +)
        let expected: Int = 10_015 + 11_016 + 12_017
        #expect(inline.count == 9)
        #expect(events == expected)
        #expect(threaded.map(\.thread) == inline.map(\.thread))
        #expect(threaded.map(\.firstTime) == inline.map(\.firstTime))
        #expect(threaded.map(\.payload) == inline.map(\.payload))
    }
}
