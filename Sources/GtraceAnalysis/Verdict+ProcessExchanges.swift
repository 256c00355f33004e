import Foundation

extension Verdict {
    /// Messages at least this many (writes another process read) make the exchange caveat.
    static let exchangeCaveatWrites = 10
    /// Why a count of such writes is a lower bound (wakers.c).
    static let writesNoted = "the runtime notes a descriptor's writes that do not block about once per 100 µs at most"

    /// The caveat said after the "as threads" prediction when its Python processes wrote to
    /// pipes or sockets that another of the tree's processes read (ProcessExchanges.swift):
    /// multiprocessing's pickled tasks and results, which threads would pass by reference.
    static func exchangeCaveat(_ a: TraceAnalysis, among python: [GILStatistics]) -> String? {
        let processes = Set(python.map(\.process))
        let writes = a.processes.filter { processes.contains($0.index) }.map(\.writesReadByOtherProcesses).reduce(0, +)
        guard writes >= exchangeCaveatWrites else { return nil }
        return String(format: " The replay also keeps what the processes did to pass each other their work: at least %d writes to pipes or sockets that another of them read (%@; multiprocessing pickles each task and result and sends it so); threads of one process would pass them by reference and not spend that time, which gtrace does not measure apart from the work.",
                      writes, writesNoted)
    }
}
