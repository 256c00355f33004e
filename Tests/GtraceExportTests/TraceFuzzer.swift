import Foundation
import GtraceAnalysis
import GtraceExport
import GtraceFormat

/// A structure-aware fuzzer over the reader and the analysis (RELIABILITY.md
/// item 4): it parses a real trace into its records, changes values while
/// keeping the framing and the CRCs valid (and sometimes breaks them too),
/// and runs what `report`, `report --json`, `export` and `dump` run. Used by
/// `FuzzTests` (a bounded number of inputs) and by `tools/fuzz` (long runs).
struct TraceFuzzer {
    // MARK: record framing (docs/FORMAT.md)

    struct Record {
        var kind: UInt8
        var payload: [UInt8]
    }

    static let headerSize = 16

    static func varint(_ bytes: [UInt8], _ i: inout Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count, shift < 64 {
            let b = bytes[i]
            i += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    static func encode(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var n = value
        repeat {
            let b = UInt8(n & 0x7f)
            n >>= 7
            out.append(b | (n != 0 ? 0x80 : 0))
        } while n != 0
        return out
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func parse(_ bytes: [UInt8]) -> (header: [UInt8], records: [Record])? {
        guard bytes.count >= headerSize else { return nil }
        var records: [Record] = []
        var i = headerSize
        while i < bytes.count {
            let kind = bytes[i]
            i += 1
            guard let length = varint(bytes, &i), i + Int(length) + 4 <= bytes.count else { return nil }
            records.append(Record(kind: kind, payload: Array(bytes[i..<(i + Int(length))])))
            i += Int(length) + 4
        }
        return (Array(bytes.prefix(headerSize)), records)
    }

    static func build(_ header: [UInt8], _ records: [Record]) -> [UInt8] {
        var out = header
        for r in records {
            let body = [r.kind] + encode(UInt64(r.payload.count)) + r.payload
            let crc = crc32(body)
            out += body + [UInt8(crc & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc >> 16 & 0xff), UInt8(crc >> 24)]
        }
        return out
    }

    /// A payload read as a run of varints (strings and opcodes included): the tokens a value mutator changes.
    static func tokens(_ payload: [UInt8]) -> [UInt64] {
        var i = 0
        var out: [UInt64] = []
        while i < payload.count, let v = varint(payload, &i) { out.append(v) }
        return out
    }

    static func untokens(_ values: [UInt64]) -> [UInt8] { values.flatMap(encode) }

    // MARK: mutations

    /// A small deterministic generator (SplitMix64): the same seed gives the same inputs.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let hostile: [UInt64] = [0, 1, 2, 0x7f, 0x80, 0xff, 4096, 1 << 31 - 1, 1 << 32, 1 << 32 + 1, 1 << 53,
                                    1 << 62, 1 << 62 + 1, 1 << 63, UInt64.max - 1, UInt64.max]

    static let mutatorNames = ["token", "tokens", "column", "drop", "duplicate", "swap", "insert", "truncate",
                               "flip", "flip+crc", "kind", "string", "end", "events-gap", "repeat-events"]

    let seeds: [[UInt8]]
    var rng: Generator

    init(seeds: [[UInt8]], seed: UInt64) {
        self.seeds = seeds
        rng = Generator(state: seed)
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    mutating func hostileValue(_ original: UInt64) -> UInt64 {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return original &+ 1
        case 1: return original &- 1
        case 2: return original &* 2
        default: return pick(Self.hostile)
        }
    }

    /// One mutant of a random seed, and the name of the mutator that made it.
    mutating func next() -> (bytes: [UInt8], mutator: String) {
        let seed = pick(seeds)
        guard let (header, original) = Self.parse(seed), !original.isEmpty else { return (seed, "seed") }
        var records = original
        let which = Int.random(in: 0..<Self.mutatorNames.count, using: &rng)
        let index = Int.random(in: 0..<records.count, using: &rng)
        switch Self.mutatorNames[which] {
        case "token", "tokens":
            for _ in 0..<(which == 0 ? 1 : Int.random(in: 2...8, using: &rng)) {
                let r = Int.random(in: 0..<records.count, using: &rng)
                var t = Self.tokens(records[r].payload)
                guard !t.isEmpty else { continue }
                let k = Int.random(in: 0..<t.count, using: &rng)
                t[k] = hostileValue(t[k])
                records[r].payload = Self.untokens(t)
            }
        case "column":  // the same field of every record of one kind (e.g. every thread's CPU time)
            let kind = records[index].kind
            let k = Int.random(in: 0..<12, using: &rng)
            let value = pick(Self.hostile)
            for r in records.indices where records[r].kind == kind {
                var t = Self.tokens(records[r].payload)
                if k < t.count { t[k] = value; records[r].payload = Self.untokens(t) }
            }
        case "drop": records.remove(at: index)
        case "duplicate": records.insert(records[index], at: index)
        case "swap": if index + 1 < records.count { records.swapAt(index, index + 1) }
        case "insert": records.insert(records[index], at: Int.random(in: 0...records.count, using: &rng))
        case "truncate":
            let bytes = Self.build(header, records)
            return (Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng))), "truncate")
        case "flip":
            var bytes = Self.build(header, records)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            return (bytes, "flip")
        case "flip+crc":
            if !records[index].payload.isEmpty {
                records[index].payload[Int.random(in: 0..<records[index].payload.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
        case "kind": records[index].kind = UInt8.random(in: 0...255, using: &rng)
        case "string":  // a hostile string where a STRING record (kind 3) was
            let strings = records.indices.filter { records[$0].kind == 3 }
            if let r = strings.isEmpty ? nil : pick(strings) {
                let id = Self.tokens(records[r].payload).first ?? 0
                let text: [UInt8] = pick([Array("\u{1b}]52;c;eA==\u{7}\u{1b}[2J</script>".utf8), [0xff, 0xfe, 0x00, 0x80],
                                          [UInt8](repeating: 0x41, count: 70_000), []])
                records[r].payload = Self.encode(id) + Self.encode(UInt64(text.count)) + text
            }
        case "end":  // END totals changed
            if let r = records.lastIndex(where: { $0.kind == 8 }) {
                records[r].payload = Self.untokens([pick(Self.hostile), pick(Self.hostile)])
            }
        case "events-gap":  // one event far after its predecessor (a delta token of an EVENTS record)
            let events = records.indices.filter { records[$0].kind == 7 }
            if let r = events.isEmpty ? nil : pick(events) {
                var t = Self.tokens(records[r].payload)
                if t.count > 5 {
                    let k = Int.random(in: 3..<t.count, using: &rng)
                    t[k] = pick([1 << 40, 1 << 53, 1 << 62, 1 << 63, UInt64.max])
                    records[r].payload = Self.untokens(t)
                }
            }
        default:  // "repeat-events": the first EVENTS record many times
            if let r = records.firstIndex(where: { $0.kind == 7 }) {
                records.insert(contentsOf: Array(repeating: records[r], count: Int.random(in: 2...40, using: &rng)), at: r)
            }
        }
        return (Self.build(header, records), Self.mutatorNames[which])
    }

    // MARK: running one input

    static func json(_ analysis: TraceAnalysis) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(analysis)
    }

    enum Outcome: String { case ok, warned, error }

    /// What `report` (text, JSON, HTML), `export` and `dump` do with the file at `path`.
    /// A clean error is a TraceError with one line; anything else is a failure of the reader.
    /// With `writers` false, only the reader, the analysis and the text report run (the long
    /// run's cheaper executions; tools/fuzz --writers-every).
    static func run(path: String, replayOperations: Int = Analyzer.defaultReplayOperationLimit,
                    writers: Bool = true) -> (Outcome, String) {
        do {
            let file = try TraceFile(path: path)
            let analysis = Analyzer.analyze(file, replayOperations: replayOperations, secondThread: false)
            _ = TextReport.render(analysis)
            // The report's two-thread pass (used on traces of 1 MB or more) must say the same.
            let twoThreads = Analyzer.analyze(file, replayOperations: replayOperations, secondThread: true)
            if try Self.json(analysis) != Self.json(twoThreads) {
                return (.error, "OTHER: the two-thread analysis differs from the one-thread analysis")
            }
            guard writers else { return (analysis.warnings.isEmpty ? .ok : .warned, "") }
            _ = try JSONReport.render([analysis])
            _ = try HTMLReport.render([analysis])
            let output = try FileOutput(path: "/dev/null")
            let warnings = try ChromeTraceWriter(file: file, output: output).write()
            var stream = file.events()
            var lines = 0
            while let event = stream.next() {
                _ = TextDump.line(event, tables: file.tables)
                lines += 1
            }
            _ = TextDump.tableLines(file.tables)
            return (warnings.isEmpty && stream.warnings.isEmpty && analysis.warnings.isEmpty ? .ok : .warned, "")
        } catch let error as TraceError {
            let text = "\(error)"
            return text.contains("\n") || text.isEmpty ? (.error, "MESSY: \(text)") : (.error, text)
        } catch {
            return (.error, "OTHER: \(error)")
        }
    }
}
