import Foundation
import Testing

/// A long recording crosses many buffer chunks (most taken from the recorder's
/// pool); no event may be lost on the way.
@Suite struct ChunkRotationTests {
    @Test func millionsOfEventsAcrossChunksAreAllKept() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let loop = try Harness.buildWorkload("\(Harness.packageRoot)/tools/bench/lock_loop.c", in: dir)
        let trace = "\(dir)/t.data"
        let pairs = 300_000
        let result = try Harness.gtrace(["record", "-o", trace, "--", loop, "2", "\(pairs)"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try Harness.reportJSON(trace, replay: false)
        let locks = try #require(report["locks"] as? [[String: Any]])
        let busiest = try #require(locks.max { ($0["acquisitions"] as? Int ?? 0) < ($1["acquisitions"] as? Int ?? 0) })
        #expect(busiest["acquisitions"] as? Int == 2 * pairs)
        let threads = try #require(report["threads"] as? [[String: Any]])
        #expect(threads.filter { $0["acquisitions"] as? Int == pairs }.count == 2)
        // 1.2 M events × 32 bytes of raw records: several 2 MiB chunks per thread.
        let info = try Harness.dump(trace).filter { $0.hasPrefix("info pool_chunks_used=") }
        let used = info.first.flatMap { Int($0.split(separator: "\"")[1]) } ?? 0
        #expect(used > 0, "\(info)")
        #expect(!result.stderr.contains("lost"))
    }

    /// 200 threads of 2000 pairs: each writes ~4000 records, 16 + 32 + 64 + 128 KiB of
    /// chunks. The chunks after the first come from the pool's smaller sizes, and every
    /// pair is kept.
    @Test func manyThreadsSmallChunksFromThePoolKeepEveryEvent() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let load = try Harness.buildWorkload("\(Harness.packageRoot)/tools/bench/scale_load.c", in: dir)
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", load, "1", "200", "2000"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try Harness.reportJSON(trace, replay: false)
        let threads = try #require(report["threads"] as? [[String: Any]])
        let workers = threads.filter { $0["acquisitions"] as? Int == 2000 }
        #expect(workers.count == 200, "\(threads.map { $0["acquisitions"] ?? 0 })")
        let dump = try Harness.dump(trace)
        func info(_ key: String) -> Int { dump.first { $0.hasPrefix("info \(key)=") }.flatMap { Int($0.split(separator: "\"")[1]) } ?? -1 }
        // No 2 MiB chunk is needed: whatever the pool gave were the smaller sizes.
        #expect(info("pool_chunks_used") >= 200, "\(dump.filter { $0.hasPrefix("info pool") })")
        #expect(info("buffer_chunks") >= 3 * 200)
        #expect(!result.stderr.contains("lost"))
    }
}
