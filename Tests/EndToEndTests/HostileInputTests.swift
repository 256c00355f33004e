import Foundation
import Testing

/// Hostile traces and arguments (RELIABILITY.md items 4, 13, 15, 16, 17):
/// one line naming the problem, or a correct answer; never a crash, a hang
/// or bytes that drive the terminal.
@Suite(.serialized) struct HostileInputTests {
    static let escapeNamer = """
    #define _GNU_SOURCE
    #include <pthread.h>
    #include <stdio.h>
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int main(void) {
        pthread_setname_np(pthread_self(), "\\033]0;PWN\\007\\033[2J");
        for (int i = 0; i < 10; i++) { pthread_mutex_lock(&lock); pthread_mutex_unlock(&lock); }
        return 0;
    }
    """

    /// Escape sequences in argv and thread names reach the text report as visible `\\x1b`, never raw.
    @Test func textReportEscapesControlCharacters() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.escapeNamer.write(toFile: "\(dir)/escape_namer.c", atomically: false, encoding: .utf8)
        let program = try Harness.buildWorkload("\(dir)/escape_namer.c", in: dir)
        let trace = "\(dir)/h.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", "/bin/sh", "-c", "\"$0\"", program,
                                           "\u{1b}]52;c;cHduZWQ=\u{07}", "\u{1b}[2J", "\u{9b}31m", "tab\there"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        for arguments in [["report", "--details", trace], ["report", trace]] {
            let report = try Harness.gtrace(arguments)
            #expect(report.status == 0, "\(report.stderr)")
            let bytes = [UInt8](report.stdoutData)
            #expect(!bytes.contains(0x1b) && !bytes.contains(0x07), "raw ESC/BEL in `gtrace \(arguments.joined(separator: " "))`")
            #expect(!report.stdout.unicodeScalars.contains { (0x80...0x9f).contains($0.value) }, "raw C1 control")
            #expect(report.stdout.contains("\\x1b]52;c;cHduZWQ=\\x07"), "the command line, escaped")
        }
        let details = try Harness.gtrace(["report", "--details", trace]).stdout
        #expect(details.contains("\\x1b]0;PWN\\x07"), "the thread name, escaped")
        #expect(details.contains("\\x1b[2J"))
    }
}

extension HostileInputTests {
    /// --from/--to that do not fit in the trace's nanoseconds are bad arguments (64), not a crash.
    @Test(arguments: ["nan", "inf", "-inf", "1e19", "1.8e10", "1e300"])
    func timeWindowOutOfRange(value: String) throws {
        let trace = "\(Harness.packageRoot)/traces/seed1-threads.data"
        for command in [["export", trace, "-o", "/dev/null"], ["report", trace, "--chrome", "/dev/null"], ["view", trace, "--no-open", "--port", "0"]] {
            for option in ["--from", "--to"] {
                let result = try Harness.run("/usr/bin/timeout", ["20", Harness.gtrace] + command + ["\(option)=\(value)"])
                #expect(result.status == 64, "\(command[0]) \(option)=\(value): \(result.status) \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            }
        }
    }
}
