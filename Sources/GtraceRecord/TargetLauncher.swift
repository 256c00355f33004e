import CGtraceSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts the command with the runtime preloaded, becomes its child subreaper,
/// and waits for the whole process tree. The recorder ignores SIGINT and
/// SIGQUIT while it waits (the terminal sends them to the command too), and
/// SIGXFSZ (a `ulimit -f` then fails its write with EFBIG instead of killing
/// it), and forwards SIGTERM and SIGHUP to the command unless it inherited
/// them ignored; once the command has exited, to the processes it left behind
/// (gtrace_forward.c). The command starts with the signal dispositions and mask
/// the recorder inherited: an ignored SIGHUP stays ignored under `nohup`.
struct TargetLauncher {
    struct Outcome {
        var rootPid: Int32
        var exitCode: Int32?
        var signal: Int32?
        var userNanoseconds: UInt64
        var systemNanoseconds: UInt64
        /// Wait status of every process the recorder reaped: the command and
        /// the orphans reparented to it (it is their subreaper).
        var reaped: [Int32: Int32] = [:]
    }

    /// The shell convention: the command's own code, or 128 + signal.
    static func shellStatus(_ outcome: Outcome) -> Int32 {
        if let signal = outcome.signal { return 128 + signal }
        return outcome.exitCode ?? 1
    }

    /// argv and envp as NUL-terminated bytes (`RawCommandLine`).
    let command: [[CChar]]
    let environment: [[CChar]]
    /// The signal state the recorder inherited, captured before it changed any.
    let inherited: InheritedSignals

    /// Runs the command to completion of every descendant.
    /// - Throws: `RecordError.launch` with status 127 (not found) or 126 (not executable) in `launchStatus`.
    func run(onStarted: (Int32) -> Void = { _ in }) throws -> Outcome {
        _ = gtrace_become_child_subreaper()
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Handlers become SIG_DFL at exec by themselves, but an ignore the
        // recorder sets for itself would be inherited, so those signals are
        // reset unless they were ignored already.
        let inheritedIgnores = inherited.ignored
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in InheritedSignals.watched where !inheritedIgnores.contains(signal) { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var inheritedMask = inherited.mask
        posix_spawnattr_setsigmask(&attributes, &inheritedMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = command.map { bytes in bytes.withUnsafeBufferPointer { strdup($0.baseAddress!) } } + [nil]
        let envp = environment.map { bytes in bytes.withUnsafeBufferPointer { strdup($0.baseAddress!) } } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let previousInt = signal(SIGINT, SIG_IGN)
        let previousQuit = signal(SIGQUIT, SIG_IGN)
        defer {
            signal(SIGINT, previousInt)
            signal(SIGQUIT, previousQuit)
        }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0]!, nil, &attributes, argv, envp)
        if rc != 0 {
            throw LaunchFailure(errorNumber: rc)
        }
        onStarted(pid)
        let forwarded = [SIGTERM, SIGHUP].filter { !inheritedIgnores.contains($0) }
        gtrace_forward_install(pid, forwarded, Int32(forwarded.count))
        defer { gtrace_forward_uninstall() }

        var outcome = Outcome(rootPid: pid, exitCode: nil, signal: nil, userNanoseconds: 0, systemNanoseconds: 0)
        while true {
            var status: Int32 = 0
            let reaped = waitpid(-1, &status, 0)
            if reaped < 0 {
                if errno == EINTR { continue }
                break  // ECHILD: every descendant is gone
            }
            outcome.reaped[reaped] = status
            if reaped == pid {
                gtrace_forward_root_reaped()
                if status & 0x7f == 0 {
                    outcome.exitCode = (status >> 8) & 0xff
                } else {
                    outcome.signal = status & 0x7f
                }
            }
        }
        (outcome.userNanoseconds, outcome.systemNanoseconds) = ResourceUsage.cpuNanoseconds(RUSAGE_CHILDREN)
        return outcome
    }

    struct LaunchFailure: Error {
        let errorNumber: Int32
        var status: Int32 { errorNumber == ENOENT ? 127 : 126 }
        var reason: String {
            errorNumber == ENOENT ? "command not found" : String(cString: strerror(errorNumber))
        }
    }
}

/// The signal dispositions and mask `gtrace record` inherited: captured first
/// thing, before the recorder ignores SIGXFSZ (for its own files) or SIGINT and
/// SIGQUIT, so that the command starts with them (RELIABILITY.md item 2).
public struct InheritedSignals {
    static let watched = [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ]
    let ignored: Set<Int32>
    let mask: sigset_t

    public static func capture() -> InheritedSignals {
        var mask = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mask)
        return InheritedSignals(ignored: Set(watched.filter { SignalDisposition.isIgnored($0) }), mask: mask)
    }
}
