import CGtraceFormat
import Testing
@testable import GtraceFormat

/// PythonStack keeps frames inline so that events copy without reference
/// counting; it must still read and write every frame a trace holds.
@Suite struct PythonStackTests {
    @Test func keepsFramesInOrderWithUnnamedCodes() {
        let frames = [PythonFrame(code: 0, line: 1), PythonFrame(code: nil, line: 0),
                      PythonFrame(code: 70_000, line: UInt32.max), PythonFrame(code: 3, line: 42)]
        let stack = PythonStack(frames)
        #expect(Array(stack) == frames)
        #expect(stack.first == frames[0])
        #expect(stack == PythonStack(frames))
        #expect(stack != PythonStack(frames.prefix(3)))
        #expect(Set([stack, PythonStack(frames)]).count == 1)
    }

    @Test func keepsTheInnermostFramesOfALongerStack() {
        let frames = (0..<10).map { PythonFrame(code: $0, line: UInt32($0)) }
        var stack = PythonStack(frames)
        #expect(Array(stack) == Array(frames.prefix(PythonStack.capacity)))
        let appended = stack.append(PythonFrame(code: 1, line: 1))
        #expect(!appended)
        #expect(stack.count == PythonStack.capacity)
    }

    /// An event kind with a stack is a trivial type: copying it counts no references.
    @Test func eventKindIsTrivial() {
        #expect(_isPOD(EventKind.self))
        #expect(_isPOD(TraceEvent.self))
    }

    /// A block with stacks decodes to the same events; a stored stack deeper
    /// than the capacity (allowed by the format) reads as its innermost frames.
    @Test func encodesAndDecodesStacks() throws {
        let events: [TraceEvent] = [
            TraceEvent(time: 10, thread: 0, kind: .pythonLocation(frames: [PythonFrame(code: 1, line: 7), PythonFrame(code: nil, line: 0)])),
            TraceEvent(time: 20, thread: 0, kind: .pythonSample(lock: 2, frames: [PythonFrame(code: 0, line: 0)])),
            TraceEvent(time: 30, thread: 0, kind: .pythonLocation(frames: [])),
        ]
        var w = ByteWriter(capacity: 64)
        var previous: UInt64 = 0
        for e in events {
            EventCodec.encode(e.kind, delta: e.time - previous, into: &w)
            previous = e.time
        }
        // A stack of 6 frames written by hand: opcode, delta, count, then (code+1, line) pairs.
        w.byte(UInt8(GTRACE_EV_PYTHON.rawValue)); w.varint(5); w.varint(6)
        for i in 0..<6 { w.varint(UInt64(i + 1)); w.varint(UInt64(100 + i)) }
        let bytes = w.bytes
        let limits = EventCodec.Limits(locks: 3, threads: 1, strings: 1, pythonCodes: 8)
        var decoded: [EventKind] = []
        try bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            while !r.isAtEnd { decoded.append(try EventCodec.decode(&r, limits: limits).kind) }
        }
        #expect(decoded.count == 4)
        #expect(Array(decoded.prefix(3)) == events.map(\.kind))
        #expect(decoded[3] == .pythonLocation(frames: PythonStack((0..<4).map { PythonFrame(code: $0, line: UInt32(100 + $0)) })))
    }
}
