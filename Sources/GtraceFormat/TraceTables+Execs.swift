extension TraceTables {
    /// How many of the table's process images an exec replaced, and how many
    /// of its threads went on into the next image. The tables keep one process
    /// per image (an exec starts a new one, with a new entry for the thread that
    /// called it), so a shell loop that runs 50 `gzip`s has 50 more images and
    /// thread entries than processes and threads.
    public var execSuccessions: (images: Int, threads: Int) {
        var hasMainThread = Set<Int>()
        for t in threads where processes.indices.contains(t.process) && t.tid == processes[t.process].pid {
            hasMainThread.insert(t.process)
        }
        let successors = execSuccessors
        let continued = successors.filter { hasMainThread.contains($0.key) && hasMainThread.contains($0.value) }.count
        return (successors.count, continued)
    }

    /// Each image an exec replaced (process index) → the image it started: the same pid's
    /// next image in the table.
    public var execSuccessors: [Int: Int] {
        var imagesByPid: [Int32: [ProcessInfo]] = [:]
        for p in processes { imagesByPid[p.pid, default: []].append(p) }
        var result: [Int: Int] = [:]
        for p in processes where p.exitKind == .exec {
            if let next = imagesByPid[p.pid]?.first(where: { $0.index != p.index && $0.startNanoseconds >= p.startNanoseconds }) {
                result[p.index] = next.index
            }
        }
        return result
    }

    /// Each thread of an image an exec replaced → its entry (the same tid) in the image the
    /// exec started: the task that goes on running there.
    public var execContinuations: [Int: Int] {
        var threadsOf: [Int: [Int32: Int]] = [:]
        for thread in threads { threadsOf[thread.process, default: [:]][thread.tid] = thread.index }
        var result: [Int: Int] = [:]
        for (old, new) in execSuccessors {
            for (tid, thread) in threadsOf[old] ?? [:] {
                if let next = threadsOf[new]?[tid] { result[thread] = next }
            }
        }
        return result
    }

    /// "153 processes (100 execs), 153 threads": processes and threads of the
    /// run, with the execs that made the tables' extra images.
    public var processAndThreadCounts: String {
        let execs = execSuccessions
        return Self.countsText(entries: (processes.count, threads.count), execs: execs)
    }

    public static func countsText(entries: (processes: Int, threads: Int), execs: (images: Int, threads: Int)) -> String {
        let processCount = entries.processes - execs.images, threadCount = entries.threads - execs.threads
        return "\(processCount) process\(processCount == 1 ? "" : "es")"
            + (execs.images == 0 ? "" : " (\(execs.images) exec\(execs.images == 1 ? "" : "s"))")
            + ", \(threadCount) thread\(threadCount == 1 ? "" : "s")"
    }
}
