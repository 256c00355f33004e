import Foundation
import GtraceSymbols

/// Names the run-time addresses of a process image from the objects its
/// runtime saw loaded (objects.c): the symbol covering the address in the
/// object's ELF file, read once per file with libelf, or in its separate
/// debug file. A file whose build-id differs from the one loaded is not used
/// (it changed after the recording) and says so once. Every object goes
/// through the symbol cache (GtraceSymbols.SymbolCache: by the recorded
/// build-id, else by the file's identity).
struct Symbolizer {
    private let cache: SymbolCache
    private var files: [String: ElfObject?] = [:]
    private var warned: Set<String> = []
    private(set) var warnings: [String] = []
    private var demangler = Demangler()
    /// ELF files read so far (each once).
    var filesRead: Int { files.count }
    /// Of those, the ones whose symbols came from the cache.
    private(set) var filesFromCache = 0

    init(cache: SymbolCache = .standard()) {
        self.cache = cache
    }

    /// "symbol+0x2c (object)" or "symbol (object)"; "object+0x1a2c" (its link-time
    /// address: the same in every run, what objdump and addr2line take) when the
    /// object has no symbol there; "0x…" when the address is in no loaded object.
    /// `returnAddress`: look up the call instruction, just before it.
    mutating func name(_ address: UInt64, objects: [SessionContents.LoadedObject], mainExecutable: String,
                       returnAddress: Bool = false) -> (text: String, inObject: Bool) {
        let probe = returnAddress && address > 0 ? address - 1 : address
        guard let object = objects.first(where: { $0.linkAddress(of: probe) != nil }),
              let link = object.linkAddress(of: probe) else {
            return ("0x" + String(address, radix: 16), false)
        }
        let path = object.path.isEmpty ? mainExecutable : object.path
        let objectName = URL(fileURLWithPath: path).lastPathComponent
        let addressText = objectName + "+0x" + String(address - object.loadBias, radix: 16)
        guard let elf = load(path, buildID: object.buildID) else { return (addressText, true) }
        var found = elf.symbol(containing: link)
        if found == nil, let debug = debugFile(for: elf, buildID: object.buildID) { found = debug.symbol(containing: link) }
        guard let (symbol, offset) = found else { return (addressText, true) }
        let shown = returnAddress ? offset + 1 : offset
        let readable = demangler.demangle(symbol.name)
        return ((shown == 0 ? readable : "\(readable)+0x" + String(shown, radix: 16)) + " (\(objectName))", true)
    }

    private mutating func warn(_ key: String, _ message: String) {
        if warned.insert(key).inserted { warnings.append(message) }
    }

    /// The ELF file at `path`, if it is the one that was loaded (same build-id).
    private mutating func load(_ path: String, buildID: String?) -> ElfObject? {
        let key = path + "#" + (buildID ?? "")
        if let cached = files[key] { return cached }
        var result: ElfObject?
        do {
            let (elf, fromCache) = try cache.object(path: path, buildID: buildID)
            if fromCache { filesFromCache += 1 }
            if let buildID, let found = elf.buildID, found != buildID {
                warn(key, "\(path) changed since the recording (build-id \(found), recorded \(buildID)): its addresses are not named")
            } else {
                result = elf
            }
        } catch {
            warn(key, "cannot name addresses in \(path): \(error)")
        }
        files[key] = result
        return result
    }

    /// The separate debug file: by build-id under /usr/lib/debug, else by debuglink next to the object.
    private mutating func debugFile(for elf: ElfObject, buildID: String?) -> ElfObject? {
        var candidates: [String] = []
        if let id = buildID ?? elf.buildID, id.count > 2 {
            candidates.append("/usr/lib/debug/.build-id/\(id.prefix(2))/\(id.dropFirst(2)).debug")
        }
        if let link = elf.debugLink?.name {
            let directory = URL(fileURLWithPath: elf.path).deletingLastPathComponent().path
            candidates += ["\(directory)/\(link)", "\(directory)/.debug/\(link)", "/usr/lib/debug\(directory)/\(link)"]
        }
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate) {
            if let debug = load(candidate, buildID: nil), debug.hasSymbolTable { return debug }
        }
        return nil
    }
}
