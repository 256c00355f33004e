import GtraceFormat

extension Analyzer {
    /// A free-threaded CPython (3.13t, 3.14t…) runs without a GIL: the runtime
    /// recognises it by its version string and traces no GIL there. Say so,
    /// and what gtrace sees instead. Only a stand-in with the same version
    /// string (tools/workloads/fake_free_threaded.c) has been recorded: no
    /// free-threaded build can be installed on the test machine.
    static func freeThreadedSentences(_ tables: TraceTables) -> [String] {
        tables.gils.filter { $0.status.contains(.disabled) }.map { info in
            let pid = tables.processes.indices.contains(info.process) ? tables.processes[info.process].pid : 0
            return "Process \(pid) runs a free-threaded CPython \(info.version) (GIL disabled): its threads can run Python in parallel, "
                + "so no GIL serialises them. gtrace sees their pthread locks, futex waits and semaphore waits (PyMutex parking), "
                + "but not which Python object each of those per-object locks belongs to."
        }
    }
}
