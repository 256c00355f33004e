import Foundation
import Testing

/// Events recorded from a signal handler that interrupts the recording of
/// another event: none may be lost, and the thread's records are put back in
/// time order.
@Suite struct SignalStormTests {
    struct Truth: Decodable {
        var pairs: Int
        var handler_pairs: Int
        var loop_lock: String
        var handler_lock: String
    }

    @Test func noEventIsLostUnderASIGALRMStorm() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("signal_storm", in: dir)
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", program, "2000000"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("dropped"))
        let truth = try JSONDecoder().decode(Truth.self, from: result.stdoutData)
        #expect(truth.handler_pairs > 100, "the storm happened")
        let locks = try #require(try Harness.reportJSON(trace)["locks"] as? [[String: Any]])
        let loop = try #require(locks.first { $0["address"] as? String == truth.loop_lock })
        let handler = try #require(locks.first { $0["address"] as? String == truth.handler_lock })
        #expect(loop["acquisitions"] as? Int == truth.pairs)
        #expect(handler["acquisitions"] as? Int == truth.handler_pairs)
        // Every hold closed by its own release: none ran to the end of the trace.
        #expect((loop["holdMaxNanoseconds"] as? Double ?? .infinity) < 50_000_000)
    }
}
