import GtraceFormat

extension Analyzer {
    /// The command's own end, when it failed: its first process's last image exited
    /// with a non-zero status or was killed. The rest of the verdict describes a run
    /// that did not do what it was asked (a script that exits at its first error, a
    /// shim another user may not run: `setpriv --reuid=nobody …/pyenv/shims/python3`
    /// was "Serial parts: 3 threads shared the work" for a 4 ms run of `bash`'s
    /// "Permission denied"), which the report did not say.
    static func commandFailedSentences(_ tables: TraceTables) -> [String] {
        guard let root = tables.processes.first(where: { $0.parent == nil }) else { return [] }
        // Its last image: the same pid, after every exec.
        let images = tables.processes.filter { $0.pid == root.pid }
        guard let last = images.max(by: { $0.startNanoseconds < $1.startNanoseconds }) else { return [] }
        switch last.exitKind {
        case .signal:
            break
        case .exitCall, .underscoreExit, .mainReturn, .waitStatus:
            guard last.exitStatus != 0 else { return [] }
        case .unknown, .exec:
            return []
        }
        let end = ExitDescription.text(kind: last.exitKind, status: last.exitStatus)
        let command = last.arguments.joined(separator: " ")
        let shown = command.count > 80 ? String(command.prefix(79)) + "…" : command
        // "was killed by SIGTERM", "returned 1 from main", "exited 2", "ended with exit(3)".
        let how: String
        switch last.exitKind {
        case .signal: how = "was \(end)"
        case .mainReturn, .waitStatus: how = end
        default: how = "ended with \(end)"
        }
        return ["The command did not succeed: process \(last.pid) (\(shown)) \(how), so this describes a run that may have stopped short of its work."]
    }
}
