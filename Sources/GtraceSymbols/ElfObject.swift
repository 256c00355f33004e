import CLibElf
#if canImport(Glibc)
import Glibc
#endif

/// A function or data symbol of an ELF object.
public struct ElfSymbol: Sendable, Equatable {
    public var name: String
    /// Its address in the object's own (link-time) address space.
    public var address: UInt64
    public var size: UInt64
    public var isFunction: Bool
}

/// Why an ELF file could not be read. Callers turn these into warnings.
public enum ElfError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notELF(path: String)
    case corrupt(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .notELF(path): return "\(path): not an ELF file"
        case let .corrupt(path, reason): return "\(path): damaged ELF file (\(reason))"
        }
    }
}

/// The parts of one ELF file gtrace needs to name addresses: its symbols
/// (`.symtab`, else `.dynsym` when stripped), build-id, `.gnu_debuglink` and
/// loadable segments. Read once with libelf; the file is closed afterwards.
public struct ElfObject: Sendable {
    public struct Segment: Sendable, Equatable {
        public var virtualAddress: UInt64
        public var fileOffset: UInt64
        public var memorySize: UInt64
    }

    public let path: String
    /// The GNU build-id as lowercase hex, when the object has one.
    public let buildID: String?
    /// The separate debug file's name and CRC-32, when `.gnu_debuglink` names one.
    public let debugLink: (name: String, crc: UInt32)?
    /// True for a shared object or PIE (addresses move with where it is loaded).
    public let isPositionIndependent: Bool
    /// True when `.symtab` was present (not stripped).
    public let hasSymbolTable: Bool
    public let segments: [Segment]
    /// Function and data symbols, by address (then name).
    public var symbols: [ElfSymbol] { (0..<table.count).map { table.symbol(table.entry($0)) } }
    /// The symbols as numbers and name offsets: names become Strings only when looked up.
    let table: SymbolTable

    /// Reads `path`.
    /// - Throws: `ElfError`.
    public init(path: String) throws {
        self.path = path
        guard elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE) else { throw ElfError.corrupt(path: path, reason: "libelf version") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ElfError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard let elf = elf_begin(fd, ELF_C_READ, nil) else { throw ElfError.notELF(path: path) }
        defer { elf_end(elf) }
        guard elf_kind(elf) == ELF_K_ELF else { throw ElfError.notELF(path: path) }
        var header = GElf_Ehdr()
        guard gelf_getehdr(elf, &header) != nil else { throw ElfError.corrupt(path: path, reason: Self.lastError()) }
        isPositionIndependent = header.e_type == UInt16(ET_DYN)
        // libelf reads lazily: tables that lie past the end of the file mean a cut or damaged file.
        var info = stat()
        fstat(fd, &info)
        let size = UInt64(info.st_size)
        let sectionTableEnd = header.e_shoff + UInt64(header.e_shnum) * UInt64(header.e_shentsize)
        let programTableEnd = header.e_phoff + UInt64(header.e_phnum) * UInt64(header.e_phentsize)
        guard sectionTableEnd <= size, programTableEnd <= size else {
            throw ElfError.corrupt(path: path, reason: "header tables end past the file's \(size) bytes")
        }

        var segmentList: [Segment] = []
        var count = 0
        if elf_getphdrnum(elf, &count) == 0 {
            for i in 0..<count {
                var program = GElf_Phdr()
                if gelf_getphdr(elf, Int32(i), &program) != nil, program.p_type == UInt32(PT_LOAD) {
                    segmentList.append(Segment(virtualAddress: program.p_vaddr, fileOffset: program.p_offset, memorySize: program.p_memsz))
                }
            }
        }
        segments = segmentList

        var namesIndex = 0
        guard elf_getshdrstrndx(elf, &namesIndex) == 0 else { throw ElfError.corrupt(path: path, reason: Self.lastError()) }
        var names: [UInt8] = []
        var symtab: [SymbolTable.Entry] = [], dynsym: [SymbolTable.Entry] = []
        var buildID: String?
        var debugLink: (String, UInt32)?
        var section = elf_nextscn(elf, nil)
        while let scn = section {
            defer { section = elf_nextscn(elf, scn) }
            var sectionHeader = GElf_Shdr()
            guard gelf_getshdr(scn, &sectionHeader) != nil else { throw ElfError.corrupt(path: path, reason: Self.lastError()) }
            let name = elf_strptr(elf, namesIndex, Int(sectionHeader.sh_name)).map { String(cString: $0) } ?? ""
            switch sectionHeader.sh_type {
            case UInt32(SHT_SYMTAB):
                symtab = try Self.symbols(elf, scn, sectionHeader, path: path, names: &names)
            case UInt32(SHT_DYNSYM):
                dynsym = try Self.symbols(elf, scn, sectionHeader, path: path, names: &names)
            case UInt32(SHT_NOTE) where name == ".note.gnu.build-id":
                buildID = Self.buildID(Self.bytes(scn))
            default:
                if name == ".gnu_debuglink" { debugLink = Self.debugLink(Self.bytes(scn)) }
            }
        }
        self.buildID = buildID
        self.debugLink = debugLink
        hasSymbolTable = !symtab.isEmpty
        // .symtab has everything .dynsym has, when present; keep one entry per
        // (address, name): the first of the two tables' order.
        table = SymbolTable(entries: symtab.isEmpty ? dynsym : symtab + dynsym, names: names)
    }

    private static func lastError() -> String {
        elf_errmsg(-1).map { String(cString: $0) } ?? "unknown libelf error"
    }

    private static func bytes(_ scn: OpaquePointer) -> [UInt8] {
        guard let data = elf_getdata(scn, nil), let buffer = data.pointee.d_buf else { return [] }
        return Array(UnsafeRawBufferPointer(start: buffer, count: data.pointee.d_size))
    }

    /// The function and data symbols of one symbol table; their names stay
    /// bytes, appended to `names` (the table's string section, copied once).
    private static func symbols(_ elf: OpaquePointer, _ scn: OpaquePointer, _ header: GElf_Shdr, path: String,
                                names: inout [UInt8]) throws -> [SymbolTable.Entry] {
        guard header.sh_entsize > 0, let data = elf_getdata(scn, nil) else { return [] }
        let count = Int(header.sh_size / header.sh_entsize)
        guard let strings = elf_getscn(elf, Int(header.sh_link)), let stringData = elf_getdata(strings, nil),
              let stringBytes = stringData.pointee.d_buf else {
            // Names unreadable: libelf's lookup would fail for each; as before, no symbols from this table.
            return []
        }
        let stringCount = Int(stringData.pointee.d_size)
        let base = names.count
        names.append(contentsOf: UnsafeRawBufferPointer(start: stringBytes, count: stringCount))
        names.append(0)  // every name ends inside `names`
        var out: [SymbolTable.Entry] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            var symbol = GElf_Sym()
            guard gelf_getsym(data, Int32(i), &symbol) != nil else { throw ElfError.corrupt(path: path, reason: lastError()) }
            let type = symbol.st_info & 0xf  // ELF64_ST_TYPE
            guard type == UInt8(STT_FUNC) || type == UInt8(STT_OBJECT), symbol.st_shndx != UInt16(SHN_UNDEF), symbol.st_value != 0,
                  Int(symbol.st_name) < stringCount, names[base + Int(symbol.st_name)] != 0 else { continue }
            out.append(SymbolTable.Entry(address: symbol.st_value, size: symbol.st_size, name: base + Int(symbol.st_name),
                                         isFunction: type == UInt8(STT_FUNC)))
        }
        return out
    }

    /// The descriptor of the first NT_GNU_BUILD_ID note, as hex.
    static func buildID(_ note: [UInt8]) -> String? {
        func u32(_ at: Int) -> Int { at + 4 <= note.count ? Int(note[at]) | Int(note[at + 1]) << 8 | Int(note[at + 2]) << 16 | Int(note[at + 3]) << 24 : -1 }
        var at = 0
        while at + 12 <= note.count {
            let nameSize = u32(at), descriptorSize = u32(at + 4), type = u32(at + 8)
            let descriptor = at + 12 + (nameSize + 3) / 4 * 4
            guard nameSize >= 0, descriptorSize >= 0, descriptor + descriptorSize <= note.count else { return nil }
            if type == 3 {  // NT_GNU_BUILD_ID
                return hexText(note[descriptor..<(descriptor + descriptorSize)])
            }
            at = descriptor + (descriptorSize + 3) / 4 * 4
        }
        return nil
    }

    /// `.gnu_debuglink`: a NUL-terminated file name, padding to 4, a CRC-32.
    static func debugLink(_ bytes: [UInt8]) -> (String, UInt32)? {
        guard let end = bytes.firstIndex(of: 0) else { return nil }
        let crcAt = (end + 4) / 4 * 4
        guard crcAt + 4 <= bytes.count else { return nil }
        let crc = UInt32(bytes[crcAt]) | UInt32(bytes[crcAt + 1]) << 8 | UInt32(bytes[crcAt + 2]) << 16 | UInt32(bytes[crcAt + 3]) << 24
        return (String(decoding: bytes[..<end], as: UTF8.self), crc)
    }

    /// The symbol covering `address` (link-time address) and the offset into it.
    /// A symbol of size 0 covers up to the next symbol.
    public func symbol(containing address: UInt64) -> (symbol: ElfSymbol, offset: UInt64)? {
        let count = table.count
        var low = 0, high = count
        while low < high {  // first symbol with address > target
            let mid = (low + high) / 2
            if table.address(mid) <= address { low = mid + 1 } else { high = mid }
        }
        var i = low - 1
        while i >= 0 {
            let s = table.entry(i)
            let offset = address - s.address
            if offset < max(s.size, 1) || (s.size == 0 && (i + 1 == count || table.address(i + 1) > address)) {
                return (table.symbol(s), offset)
            }
            // A preceding symbol of the same address may be the one that covers it.
            if i > 0 && table.address(i - 1) == s.address { i -= 1; continue }
            return nil
        }
        return nil
    }
}

/// Lowercase hex of `bytes` (build-ids: the ELF note's and the runtime's).
public func hexText(_ bytes: some Collection<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0xf)])
    }
    return String(decoding: text, as: UTF8.self)
}
