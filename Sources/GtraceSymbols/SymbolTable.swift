#if canImport(Glibc)
import Glibc
#endif

/// Symbols sorted by (address, name) with one entry per (address, name), the
/// names kept as NUL-terminated bytes of the string tables: reading a large
/// object (node, libjvm, libcrypto) makes no String per symbol. A table read
/// from the symbol cache stays in the cache file's bytes (`CacheBytes`) and
/// is read in place: a merge looks up a few hundred addresses, and copying
/// node's 15 MB of entries and names took most of its symbol time.
struct SymbolTable: Sendable {
    struct Entry: Sendable {
        var address: UInt64
        var size: UInt64
        /// Offset of the NUL-terminated name in the table's names.
        var name: Int
        var isFunction: Bool
        /// Position in the tables' order (for a stable sort).
        var order = 0
    }

    private enum Storage: Sendable {
        case arrays(entries: [Entry], names: [UInt8])
        /// Entries of 24 bytes (address, size, name offset | function bit 63) at
        /// `entries`, then `namesCount` bytes of names, in `bytes`.
        case cache(bytes: CacheBytes, entries: Int, count: Int, namesCount: Int)
    }

    private let storage: Storage
    let count: Int

    /// A cache file's table, read in place; nil unless its entries are in
    /// address order, every name offset is inside the names, and the names end
    /// with a NUL.
    init?(cache bytes: CacheBytes, entries: Int, count: Int, namesCount: Int) {
        let raw = bytes.bytes
        guard entries >= 0, count >= 0, namesCount >= 0, entries + count * 24 + namesCount == raw.count,
              namesCount == 0 || raw[raw.count - 1] == 0 else { return nil }
        var previous: UInt64 = 0
        for i in 0..<count {
            let base = entries + i * 24
            let address = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt64.self))
            let name = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt64.self)) & ~(1 << 63)
            guard address >= previous, name < UInt64(namesCount) else { return nil }
            previous = address
        }
        storage = .cache(bytes: bytes, entries: entries, count: count, namesCount: namesCount)
        self.count = count
    }

    /// `entries` in table order: sorted, the first of each (address, name) kept.
    init(entries unsorted: [Entry], names: [UInt8]) {
        let entries = names.withUnsafeBufferPointer { bytes -> [Entry] in
            func compare(_ a: Int, _ b: Int) -> Int32 {
                a == b ? 0 : strcmp(UnsafeRawPointer(bytes.baseAddress! + a).assumingMemoryBound(to: CChar.self),
                                    UnsafeRawPointer(bytes.baseAddress! + b).assumingMemoryBound(to: CChar.self))
            }
            // Sorted in place (the entries, not indices to them); ties in
            // (address, name) keep table order, so the first one is kept.
            var sorted = unsorted
            for i in sorted.indices { sorted[i].order = i }
            sorted.sort { a, b in
                if a.address != b.address { return a.address < b.address }
                let c = compare(a.name, b.name)
                return c != 0 ? c < 0 : a.order < b.order
            }
            var kept: [Entry] = []
            kept.reserveCapacity(sorted.count)
            for e in sorted {
                if let last = kept.last, last.address == e.address, compare(last.name, e.name) == 0 { continue }
                kept.append(e)
            }
            return kept
        }
        storage = .arrays(entries: entries, names: names)
        count = entries.count
    }

    /// The address of entry `i` (the binary search reads only this).
    func address(_ i: Int) -> UInt64 {
        switch storage {
        case let .arrays(entries, _): return entries[i].address
        case let .cache(bytes, at, _, _): return UInt64(littleEndian: bytes.bytes.loadUnaligned(fromByteOffset: at + i * 24, as: UInt64.self))
        }
    }

    func entry(_ i: Int) -> Entry {
        switch storage {
        case let .arrays(entries, _):
            return entries[i]
        case let .cache(bytes, at, _, _):
            let base = at + i * 24
            let raw = bytes.bytes
            let name = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt64.self))
            return Entry(address: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt64.self)),
                         size: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)),
                         name: Int(name & ~(1 << 63)), isFunction: name >> 63 == 1, order: i)
        }
    }

    /// The names, NUL-terminated, that entries' `name` offsets point into.
    func withNames<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch storage {
        case let .arrays(_, names):
            return names.withUnsafeBytes(body)
        case let .cache(bytes, at, count, namesCount):
            return body(UnsafeRawBufferPointer(rebasing: bytes.bytes[(at + count * 24)..<(at + count * 24 + namesCount)]))
        }
    }

    func name(_ entry: Entry) -> String {
        withNames { names in String(cString: (names.baseAddress! + entry.name).assumingMemoryBound(to: CChar.self)) }
    }

    func symbol(_ entry: Entry) -> ElfSymbol {
        ElfSymbol(name: name(entry), address: entry.address, size: entry.size, isFunction: entry.isFunction)
    }
}

/// The bytes of a symbol cache file: a private read-only mapping of it, or a
/// copy; released with the last table that reads them.
final class CacheBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    private let mapped: Bool

    /// Takes over a mapping of `count` bytes at `base` (unmapped on release).
    init(mapping base: UnsafeRawPointer, count: Int) {
        bytes = UnsafeRawBufferPointer(start: base, count: count)
        mapped = true
    }

    /// A copy of `source`.
    init(copying source: UnsafeRawBufferPointer) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(source.count, 1), alignment: 8)
        if let base = source.baseAddress, source.count > 0 { copy.baseAddress!.copyMemory(from: base, byteCount: source.count) }
        bytes = UnsafeRawBufferPointer(start: copy.baseAddress, count: source.count)
        mapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            base.deallocate()
        }
    }
}
