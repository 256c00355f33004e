import Foundation
import Testing

/// What the command inherits through `gtrace record` is what it inherits
/// without it (signal dispositions, the signal mask), and an output gtrace
/// cannot write is found before the command runs, or said with the command's
/// status after it ran (RELIABILITY.md items 2, 6 and 8).
@Suite struct InheritedStateTests {
    static let python = "/usr/bin/python3"

    /// Ignores SIGHUP, SIGINT and SIGPIPE, blocks SIGUSR1, then execs its arguments: `nohup` and a shell's background job do the like.
    static let launcher = """
        import os, signal, sys
        for s in (signal.SIGHUP, signal.SIGINT, signal.SIGPIPE):
            signal.signal(s, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        os.execvp(sys.argv[1], sys.argv[1:])
        """
    /// Prints what it inherited (CPython ignores SIGPIPE and SIGXFSZ itself; 1 is SIG_IGN).
    static let probe = """
        import signal
        names = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGPIPE", "SIGXFSZ")
        print({n: int(signal.getsignal(getattr(signal, n))) for n in names})
        print(sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        """

    @Test func signalDispositionsAndMaskAreTheInheritedOnes() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let untraced = try Harness.run(Self.python, ["-c", Self.launcher, Self.python, "-c", Self.probe])
        let traced = try Harness.run(Self.python, ["-c", Self.launcher, Harness.gtrace, "record", "-o", "\(dir)/t.data", "--",
                                                   Self.python, "-c", Self.probe])
        #expect(untraced.status == 0 && traced.status == 0, "\(traced.stderr)")
        #expect(untraced.stdout.contains("'SIGHUP': 1, 'SIGINT': 1"), "the launcher's ignores: \(untraced.stdout)")
        #expect(traced.stdout == untraced.stdout, "traced:\n\(traced.stdout)untraced:\n\(untraced.stdout)")
        // Without the launcher nothing is ignored or blocked: the recorder's own ignores do not leak.
        let plain = try Harness.gtrace(["record", "-o", "\(dir)/p.data", "--", Self.python, "-c", Self.probe])
        let direct = try Harness.run(Self.python, ["-c", Self.probe])
        #expect(plain.stdout == direct.stdout, "traced:\n\(plain.stdout)untraced:\n\(direct.stdout)")
    }

    @Test func anUnwritableOutputIsFoundBeforeTheCommandRuns() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = "\(dir)/ran"
        for output in [dir, "\(dir)/missing/t.data"] {
            let result = try Harness.gtrace(["record", "-o", output, "--", "/usr/bin/touch", marker])
            #expect(result.status == 1)
            #expect(result.stderr.contains("cannot write the trace there") && result.stderr.contains("the command was not run"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: marker), "\(output): the command ran")
        }
    }

    /// `ulimit -f 1` (512 bytes): the recorder is not killed by SIGXFSZ, and neither is
    /// the command for the runtime's files (it is not recorded, and the report says why).
    /// The command keeps the default SIGXFSZ (a shell's `trap` lists no ignored signal)
    /// and its exit status, unless the trace itself could not be written: then gtrace
    /// says so, with the command's status.
    @Test func aFileSizeLimitIsAnErrorNotADeath() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "ulimit -f 1; exec \"$0\" record -o \"$1\" -- /bin/sh -c 'trap; echo done; exit 5'"
        let result = try Harness.run("/bin/sh", ["-c", script, Harness.gtrace, "\(dir)/t.data"])
        #expect(result.stdout == "done\n", "the command ran as without gtrace: \(result.stdout) \(result.stderr)")
        if result.status == 5 {
            let warnings = try Harness.reportJSON("\(dir)/t.data")["warnings"] as? [String] ?? []
            #expect(warnings.contains { $0.contains("ulimit -f") }, "\(warnings)")
        } else {
            #expect(result.status == 1, "not killed by SIGXFSZ (exit 153): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("could not be written") && result.stderr.contains("exited with status 5"), "\(result.stderr)")
        }
    }

    /// Arguments and environment values that are not UTF-8 reach the command as the
    /// same bytes, and the environment in the same order (was: U+FFFD, sorted).
    @Test func argumentsAndEnvironmentKeepTheirBytes() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // sh builds the bytes (\377, \376) itself: Swift strings cannot carry them.
        let probe = "import os, sys; print(repr([os.fsencode(a) for a in sys.argv[1:]]), repr([k for k in os.environb if k.startswith(b'XT_')]), repr(os.environb.get(b'XT_BAD')))"
        let script = "a=$(printf 'a\\377b'); export XT_BAD=$(printf 'v\\376') XT_GOOD=1; exec \"$@\" \"$a\" c"
        let untraced = try Harness.run("/bin/sh", ["-c", script, "sh", Self.python, "-c", probe])
        let traced = try Harness.run("/bin/sh", ["-c", script, "sh", Harness.gtrace, "record", "-o", "\(dir)/t.data", "--", Self.python, "-c", probe])
        #expect(untraced.stdout.contains("b'a\\xffb'") && untraced.stdout.contains("b'v\\xfe'"), "the probe sees the bytes: \(untraced.stdout)")
        #expect(traced.stdout == untraced.stdout, "traced: \(traced.stdout) untraced: \(untraced.stdout) \(traced.stderr)")
    }
}
