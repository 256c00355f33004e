import GtraceFormat

/// Writes a JSON array's objects as bytes, with no intermediate strings: the
/// hot path of the Chrome exporter (docs/BENCHMARKS.md, "Chrome JSON").
/// Objects are separated by ",\n"; the buffer goes to the output every MiB,
/// so memory does not grow with the trace.
final class JSONEventWriter {
    private let output: FileOutput
    /// Touched several times per event: no dynamic exclusivity check (the writer is single-threaded).
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    private var first = true
    private static let flushBytes = 1 << 20
    private var eventStart = 0
    private let maximumEvents: Int
    /// Events written, and those left out by the cap.
    private(set) var eventCount = 0
    private(set) var droppedCount = 0

    init(output: FileOutput, maximumEvents: Int? = nil) {
        self.output = output
        self.maximumEvents = maximumEvents ?? Int.max
        bytes.reserveCapacity(Self.flushBytes + 4096)
    }

    /// Starts an object (the separator and the opening brace).
    func begin() {
        eventStart = bytes.count
        if first {
            bytes.append(UInt8(ascii: "{"))
        } else {
            bytes.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: "\n"), UInt8(ascii: "{")])
        }
    }

    /// Ends an object; writes the buffer out when it is full.
    func end() throws {
        guard eventCount < maximumEvents else {
            bytes.removeSubrange(eventStart...)  // over the cap: the event is dropped
            droppedCount += 1
            return
        }
        eventCount += 1
        first = false
        bytes.append(UInt8(ascii: "}"))
        if bytes.count >= Self.flushBytes { try flush() }
    }

    /// A whole object given as text (rare events: metadata, counters).
    func object(_ json: String) throws {
        guard eventCount < maximumEvents else {
            droppedCount += 1
            return
        }
        eventCount += 1
        if first { first = false } else { bytes.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: "\n")]) }
        bytes.append(contentsOf: json.utf8)
        if bytes.count >= Self.flushBytes { try flush() }
    }

    func flush() throws {
        try output.write(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

    @inline(__always) func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Bytes already encoded as JSON (a cached, escaped string literal).
    @inline(__always) func encoded(_ json: [UInt8]) {
        bytes.append(contentsOf: json)
    }

    func int(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            uint(UInt64(-(value + 1)) + 1)
        } else {
            uint(UInt64(value))
        }
    }

    func uint(_ value: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            } while v != 0
            bytes.append(contentsOf: d[(20 - count)...])
        }
    }

    /// Nanoseconds as microseconds with three decimals ("12.345").
    func microseconds(_ ns: UInt64) {
        uint(ns / 1000)
        let frac = ns % 1000
        bytes.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "0") + UInt8(frac / 100),
                                  UInt8(ascii: "0") + UInt8(frac / 10 % 10), UInt8(ascii: "0") + UInt8(frac % 10)])
    }

    /// `s` as an escaped JSON string literal.
    func string(_ s: String) {
        bytes.append(contentsOf: JSONText.encoded(s))
    }
}
