import Foundation
import Testing

/// The HTML report in headless Chromium (tools/viewcheck --page): it draws
/// itself with no network, and strings from the trace stay text.
@Suite(.serialized) struct HTMLReportTests {
    static let payload = "</script><img src=x onerror=alert(1)>"

    static func check(_ html: String, screenshot: String) throws -> [String: Any] {
        try FileManager.default.createDirectory(atPath: ViewCheckTests.outputDirectory, withIntermediateDirectories: true)
        let result = try Harness.run("\(Harness.packageRoot)/tools/viewcheck", ["--page", html, "--screenshot", screenshot])
        return try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any], "\(result.stderr)")
    }

    @Test func hostileThreadNamesAndArgvAreShownNotRun() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("hostile_names", in: dir)
        let trace = "\(dir)/t.data", html = "\(dir)/report.html"
        #expect(try Harness.gtrace(["record", "-o", trace, "--", workload, Self.payload]).status == 0)
        #expect(try Harness.gtrace(["report", "--html", html, trace]).status == 0)
        let source = try String(contentsOfFile: html, encoding: .utf8)
        #expect(!source.contains(Self.payload), "the payload appears only escaped in the page source")
        let page = try Self.check(html, screenshot: "\(ViewCheckTests.outputDirectory)/hostile-names.png")
        #expect(page["rendered"] as? Bool == true)
        #expect((page["dialogs"] as? [Any])?.isEmpty == true, "alert() ran: \(page["dialogs"] ?? "")")
        #expect(page["images"] as? Int == 0, "an <img> element was created")
        #expect((page["requests"] as? [Any])?.isEmpty == true, "the page fetched \(page["requests"] ?? "")")
        let text = page["text"] as? String ?? ""
        #expect(text.contains(Self.payload), "argv shown as text")
        #expect(text.contains("</script><img s") && text.contains("<img src=x oner"), "thread names shown as text")
    }

    /// The sections beyond pthread locks, as in the text report: futex words
    /// (waits through libc's syscall()), waits gtrace cannot see (the same
    /// waits by an inline syscall instruction), and the GIL with the Python
    /// code holding it.
    @Test func futexUnseenWaitsAndGILSectionsRender() throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("raw_futex", in: dir)
        var traces: [String] = []
        for mode in ["raw", "libc"] {
            traces.append("\(dir)/\(mode).data")
            #expect(try Harness.gtrace(["record", "-o", traces.last!, "--", program, mode, "4", "100"]).status == 0)
        }
        let sample = "\(Harness.packageRoot)/traces/seed1-threads.data"
        let html = "\(dir)/report.html"
        #expect(try Harness.gtrace(["report", "--html", html] + traces + [sample]).status == 0)
        let page = try Self.check(html, screenshot: "\(ViewCheckTests.outputDirectory)/html-sections.png")
        #expect(page["rendered"] as? Bool == true)
        let text = page["text"] as? String ?? ""
        let runs = Array(text.components(separatedBy: "\nRun ").dropFirst())
        try #require(runs.count == 3, "\(text.prefix(300))")
        // raw: unseen waits, no futex word; libc: a futex word, nothing unseen; seed 1: the GIL and its Python code.
        #expect(runs[0].contains("Waits gtrace cannot see") && !runs[0].contains("Futex words"))
        #expect(runs[1].contains("Futex words") && runs[1].contains("worker") && !runs[1].contains("Waits gtrace cannot see"))
        #expect(runs[2].contains("The GIL") && runs[2].contains("Python code holding the GIL") && runs[2].contains("count (seed1_count.py"))
    }

    @Test func sampleTracesAndTheirComparisonRender() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let traces = ["seed1-threads", "seed3-processes"].map { "\(Harness.packageRoot)/traces/\($0).data" }
        let html = "\(dir)/report.html"
        #expect(try Harness.gtrace(["report", "--html", html] + traces).status == 0)
        let page = try Self.check(html, screenshot: "\(ViewCheckTests.outputDirectory)/html-report.png")
        #expect(page["rendered"] as? Bool == true)
        let text = page["text"] as? String ?? ""
        for expected in ["Comparison of 2 runs", "Timeline", "Threads on a CPU", "Where each thread's time went", "Locks by hold ratio", "GIL (CPython 3.11)"] {
            #expect(text.contains(expected), "missing \(expected)")
        }
    }
}
