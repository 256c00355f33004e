import Foundation
import Testing
@testable import GtraceFormat

/// A process's parent may come later in the table (writers before 0.1.1 put
/// an uninstrumented parent found from perf after its traced child): that is
/// data, not corruption. A parent outside the table is.
@Suite struct ParentReferenceTests {
    static func trace(childParent: Int?) -> (TraceTables, [[TraceEvent]]) {
        var (tables, events) = sampleTrace()
        var child = tables.processes[0]
        child.parent = childParent
        let parent = ProcessInfo(index: 1, pid: 99, ppid: 1, parent: nil, image: 0, executable: "./st_static",
                                 arguments: ["./st_static"], startNanoseconds: 5, endNanoseconds: 85_000,
                                 exitKind: .waitStatus, exitStatus: 0, userCPUNanoseconds: 0, systemCPUNanoseconds: 0,
                                 instrumented: false)
        tables.processes = [child, parent]
        return (tables, events)
    }

    @Test func forwardParentIsRead() throws {
        let path = try writeTemporaryTrace(Self.trace(childParent: 1))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try TraceFile(path: path)
        #expect(file.tables.processes.map(\.parent) == [1, nil])
        #expect(file.tables.processes[1].instrumented == false)
    }

    @Test func parentOutsideTheTableIsAnError() throws {
        let path = try writeTemporaryTrace(Self.trace(childParent: 2))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try TraceFile(path: path)
        } throws: { error in
            "\(error)".contains("process 0 names parent 2 out of range")
        }
    }
}
