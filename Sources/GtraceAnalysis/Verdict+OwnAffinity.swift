import Foundation

extension Verdict {
    /// A command that restricted its own CPUs (`gtrace record -- taskset -c 0 app`,
    /// `os.sched_setaffinity`): the recorder reads its own affinity before the spawn, so the
    /// cores counted are the machine's, while the threads ran on fewer, waiting for a CPU as
    /// another stayed idle. Two threads computing under `taskset -c 0` were "Serial parts: 2
    /// workers on 2 cores reached parallelism 1.00" and "Wake-ups cost this run about 149 ms"
    /// (2 wake-ups of 20 µs): the time was the affinity's.
    /// 30% of the run: threads that take turns on one CPU by themselves (a GIL's convoy, its
    /// woken thread placed on the busy CPU) wait for it a moment at a time, not most of the run.
    static let ownAffinityShare = 0.3
    static func ownAffinitySentence(_ a: TraceAnalysis, cores: Int) -> String? {
        guard let foreign = a.parallelism?.foreignLoad, let used = foreign.cpusUsed, ranOnFewerCPUs(a),
              foreign.share >= ownAffinityShare else { return nil }
        return String(format: "Its threads ran on only %d of the %d CPUs counted here, and for %.0f%% of the run some of them waited for a CPU while another stayed idle: the command restricted its own CPUs (taskset or sched_setaffinity inside it), or the scheduler kept them off the others; it had %@ in effect, while the parallelism, bound and predictions count %d.",
                      used, cores, foreign.share * 100, coreCount(used), cores)
    }

    /// Threads waited for a CPU that was idle, and ran on fewer CPUs than counted.
    static func ranOnFewerCPUs(_ a: TraceAnalysis) -> Bool {
        guard let foreign = a.parallelism?.foreignLoad, foreign.cpusUsed != nil else { return false }
        return !foreign.confirmed && !foreign.undetermined && !foreign.byRecorder
    }
}
