import GtraceFormat

/// A label the GIL attribution credits: a function ("Worker.run (app.py:12)") or
/// one of its "(unlocated …)" kinds, as an id into `PythonLabelTable`, with the
/// code object whose file it names (-1: none).
struct PythonLabel: Equatable {
    var id: Int
    var code: Int
}

/// The attribution's labels as small integers. Credits, wait sites and hand-offs
/// are summed per hold, wait and switch; hashing and formatting their strings
/// there was a third of a dense Python report's lock half. Equal strings get
/// equal ids, so sums by id are sums by label. A class: labels are made while
/// holds are credited, by functions that change nothing else.
final class PythonLabelTable {
    private let tables: TraceTables
    private(set) var names: [String] = []
    private var ids: [String: Int] = [:]
    /// By code index: the id of its label.
    private var codeIDs: [Int] = []
    /// Labels made from another: "(unlocated: between two GIL releases at <site>)" by
    /// (code, line); "<function> or code it called (not located further)" and
    /// "(unlocated: between two calls of <function>, or a loop in it)" by function id.
    private var releasesAt: [PythonFrame: Int] = [:]
    private var calledFrom: [Int: Int] = [:]
    private var loopsIn: [Int: Int] = [:]
    private var waitSites: [WaitSiteKey: (id: Int, site: PythonWaitSite)] = [:]

    let noFrame: PythonLabel
    let unknownCode: PythonLabel
    let unlocated: PythonLabel
    let between: PythonLabel
    let newThreadRun: PythonLabel

    private struct WaitSiteKey: Hashable {
        /// nil: no release yet; empty: a release without a Python frame.
        var frame: PythonFrame?
        var noFrame: Bool
        var after: String?
    }

    init(tables: TraceTables, noFrame: String, unlocated: String, between: String, newThreadRun: String) {
        self.tables = tables
        self.noFrame = PythonLabel(id: 0, code: -1)
        self.unknownCode = PythonLabel(id: 1, code: -1)
        self.unlocated = PythonLabel(id: 2, code: -1)
        self.between = PythonLabel(id: 3, code: -1)
        self.newThreadRun = PythonLabel(id: 4, code: -1)
        for name in [noFrame, "(unknown code)", unlocated, between, newThreadRun] { _ = id(name) }
        codeIDs = tables.pythonCodes.map { id($0.label) }
    }

    /// The id of `name`, made at its first use.
    func id(_ name: String) -> Int {
        if let known = ids[name] { return known }
        ids[name] = names.count
        names.append(name)
        return names.count - 1
    }

    /// The file of a label's code ("" when it names none).
    func file(_ label: PythonLabel) -> String {
        tables.pythonCodes.indices.contains(label.code) ? tables.pythonCodes[label.code].file : ""
    }

    /// The function of a frame.
    func function(_ frame: PythonFrame) -> PythonLabel {
        guard let index = frame.code, codeIDs.indices.contains(index) else { return unknownCode }
        return PythonLabel(id: codeIDs[index], code: index)
    }

    /// The innermost function of a stack (`noFrame` when it is empty).
    func function(_ frames: PythonStack) -> PythonLabel {
        frames.first.map { function($0) } ?? noFrame
    }

    /// "(unlocated: between two GIL releases at threading.py:320 in Condition.wait)".
    func betweenReleases(at frame: PythonFrame) -> PythonLabel {
        if let known = releasesAt[frame] { return PythonLabel(id: known, code: -1) }
        let made = id("(unlocated: between two GIL releases at \(siteLabel(frame)))")
        releasesAt[frame] = made
        return PythonLabel(id: made, code: -1)
    }

    /// "<function> or code it called (not located further)", with the function's file.
    func orCodeItCalled(_ function: PythonLabel) -> PythonLabel {
        if let known = calledFrom[function.id] { return PythonLabel(id: known, code: function.code) }
        let made = id("\(names[function.id]) or code it called (not located further)")
        calledFrom[function.id] = made
        return PythonLabel(id: made, code: function.code)
    }

    /// "(unlocated: between two calls of <function>, or a loop in it)".
    func betweenCalls(of function: PythonLabel) -> PythonLabel {
        if let known = loopsIn[function.id] { return PythonLabel(id: known, code: -1) }
        let made = id("(unlocated: between two calls of \(names[function.id]), or a loop in it)")
        loopsIn[function.id] = made
        return PythonLabel(id: made, code: -1)
    }

    func isUnlocated(_ label: PythonLabel) -> Bool { names[label.id].hasPrefix("(unlocated") }

    /// "threading.py:320 in Condition.wait".
    private func siteLabel(_ frame: PythonFrame) -> String {
        guard let index = frame.code, tables.pythonCodes.indices.contains(index) else { return ":\(frame.line) in (unknown code)" }
        return tables.pythonCodes[index].site(line: frame.line)
    }

    /// Where a thread asked for the GIL back: its innermost frame at its last release
    /// (nil: it has not released it yet), and the first blocking call after it. With no
    /// waits counted yet, and the id of its `site` text.
    func waitSite(_ frames: PythonStack?, after: String?) -> (id: Int, site: PythonWaitSite) {
        let key = WaitSiteKey(frame: frames?.first, noFrame: frames?.isEmpty == true, after: after)
        if let known = waitSites[key] { return known }
        let site = makeWaitSite(frames, after: after)
        let made = (id(site.site), site)
        waitSites[key] = made
        return made
    }

    private func makeWaitSite(_ frames: PythonStack?, after: String?) -> PythonWaitSite {
        guard let frames, let first = frames.first else {
            let label = frames == nil ? "(thread start: no release yet)" : names[noFrame.id]
            return PythonWaitSite(site: label + (after.map { " (after \($0))" } ?? ""), function: label, file: "", line: 0,
                                  after: after, waits: 0, waitNanoseconds: 0, maxWaitNanoseconds: 0)
        }
        let code = first.code.flatMap { tables.pythonCodes.indices.contains($0) ? tables.pythonCodes[$0] : nil }
        let name = code?.qualifiedName ?? names[unknownCode.id], file = code?.file ?? ""
        let label = siteLabel(first) + (after.map { " (after \($0))" } ?? "")
        return PythonWaitSite(site: label, function: name, file: file, line: first.line, after: after,
                              waits: 0, waitNanoseconds: 0, maxWaitNanoseconds: 0)
    }
}
