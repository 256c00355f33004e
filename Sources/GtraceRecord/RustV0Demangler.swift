/// Rust's v0 symbol mangling (RFC 2603: `_R…`), the scheme Rust's std is built
/// with, demangled to the form binutils' `c++filt` prints, without the crate
/// hashes (`std[e28293b1aa0f68bd]` → `std`):
/// `_RNvMNtNtNtNtCs…_3std3sys4sync5mutex5futexNtB2_5Mutex14lock_contended`
/// → `<std::sys::sync::mutex::futex::Mutex>::lock_contended`.
///
/// The names come from the symbol tables of whatever program was traced, so
/// every read is bounds-checked, backreferences must point strictly backwards,
/// and recursion depth and output length are capped. A name this parser
/// cannot read (a malformed one, punycode identifiers, unstable structured
/// const generics) gives nil, and the caller keeps the raw name.
struct RustV0Demangler {
    static let maxDepth = 300
    static let maxOutput = 4096

    static func demangle(_ name: String) -> String? {
        var bytes = Array(name.utf8)
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "_"), bytes[1] == UInt8(ascii: "R") else { return nil }
        // A vendor suffix (".llvm.123", "$…") is not part of the name.
        if let cut = bytes.firstIndex(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "$") }) {
            bytes.removeSubrange(cut...)
        }
        var printer = Printer(symbol: Array(bytes.dropFirst(2)))
        do {
            // An optional decimal encoding version; only version 0 (absent) exists.
            if let first = printer.peek(), Printer.isDigit(first) { return nil }
            try printer.path(inValue: true)
            // The instantiating crate, if any, is a path that is not printed.
            if let next = printer.peek(), next >= UInt8(ascii: "A"), next <= UInt8(ascii: "Z") {
                try printer.skipping { try $0.path(inValue: false) }
            }
            guard printer.atEnd else { return nil }
        } catch {
            return nil
        }
        return String(decoding: printer.out, as: UTF8.self)
    }

    private struct Invalid: Error {}

    private struct Printer {
        let symbol: [UInt8]
        var next = 0
        var depth = 0
        var boundLifetimeDepth = 0
        var printing = true
        var out: [UInt8] = []

        init(symbol: [UInt8]) { self.symbol = symbol }

        var atEnd: Bool { next == symbol.count }
        func peek() -> UInt8? { next < symbol.count ? symbol[next] : nil }

        static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        static func isLower(_ c: UInt8) -> Bool { c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") }
        static func isUpper(_ c: UInt8) -> Bool { c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") }

        // MARK: parsing

        mutating func take() throws -> UInt8 {
            guard next < symbol.count else { throw Invalid() }
            defer { next += 1 }
            return symbol[next]
        }

        mutating func eat(_ c: Character) -> Bool {
            guard let ascii = c.asciiValue, peek() == ascii else { return false }
            next += 1
            return true
        }

        /// `_` is 0; otherwise base-62 digits (0-9 a-z A-Z) ending in `_`, plus one.
        mutating func base62() throws -> UInt64 {
            if eat("_") { return 0 }
            var value: UInt64 = 0
            while true {
                let c = try take()
                if c == UInt8(ascii: "_") { break }
                let digit: UInt64
                if Self.isDigit(c) { digit = UInt64(c - UInt8(ascii: "0")) }
                else if Self.isLower(c) { digit = UInt64(c - UInt8(ascii: "a")) + 10 }
                else if Self.isUpper(c) { digit = UInt64(c - UInt8(ascii: "A")) + 36 }
                else { throw Invalid() }
                let (times, overflow1) = value.multipliedReportingOverflow(by: 62)
                let (sum, overflow2) = times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { throw Invalid() }
                value = sum
            }
            guard value < UInt64.max - 1 else { throw Invalid() }
            return value + 1
        }

        /// `<tag><base-62>` when the tag is there, else 0 (disambiguators, binders).
        mutating func optionalBase62(_ tag: Character) throws -> UInt64 {
            eat(tag) ? try base62() + 1 : 0
        }

        mutating func decimal() throws -> Int {
            let first = try take()
            guard Self.isDigit(first) else { throw Invalid() }
            if first == UInt8(ascii: "0") { return 0 }
            var value = Int(first - UInt8(ascii: "0"))
            while let c = peek(), Self.isDigit(c) {
                next += 1
                value = value * 10 + Int(c - UInt8(ascii: "0"))
                guard value < 1 << 20 else { throw Invalid() }
            }
            return value
        }

        /// `[u] <decimal> [_] <bytes>`; punycode (`u`) identifiers are not decoded.
        mutating func undisambiguatedIdentifier() throws -> ArraySlice<UInt8> {
            if eat("u") { throw Invalid() }
            let length = try decimal()
            _ = eat("_")
            guard length <= symbol.count - next else { throw Invalid() }
            defer { next += length }
            return symbol[next..<next + length]
        }

        mutating func hexDigits() throws -> ArraySlice<UInt8> {
            let start = next
            while true {
                let c = try take()
                if c == UInt8(ascii: "_") { break }
                guard Self.isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) else { throw Invalid() }
            }
            return symbol[start..<next - 1]
        }

        // MARK: printing

        mutating func print(_ text: String) throws { try print(Array(text.utf8)[...]) }

        mutating func print(_ bytes: ArraySlice<UInt8>) throws {
            guard printing else { return }
            out.append(contentsOf: bytes)
            guard out.count <= RustV0Demangler.maxOutput else { throw Invalid() }
        }

        mutating func skipping(_ body: (inout Printer) throws -> Void) throws {
            let was = printing
            printing = false
            defer { printing = was }
            try body(&self)
        }

        mutating func nested(_ body: (inout Printer) throws -> Void) throws {
            depth += 1
            defer { depth -= 1 }
            guard depth <= RustV0Demangler.maxDepth else { throw Invalid() }
            try body(&self)
        }

        /// `B<base-62>`: print what starts at an earlier position, then come back.
        mutating func backref(_ body: (inout Printer) throws -> Void) throws {
            let start = next - 1
            let target = try base62()
            guard target < UInt64(start) else { throw Invalid() }
            let resume = next
            next = Int(target)
            try nested(body)
            next = resume
        }

        mutating func separated(by separator: String, _ item: (inout Printer) throws -> Void) throws -> Int {
            var count = 0
            while !eat("E") {
                if count > 0 { try print(separator) }
                try item(&self)
                count += 1
            }
            return count
        }

        mutating func path(inValue: Bool) throws {
            try nested { p in
                let tag = try p.take()
                switch tag {
                case UInt8(ascii: "C"):
                    _ = try p.optionalBase62("s")
                    try p.print(try p.undisambiguatedIdentifier())
                case UInt8(ascii: "N"):
                    let namespace = try p.take()
                    guard Self.isLower(namespace) || Self.isUpper(namespace) else { throw Invalid() }
                    try p.path(inValue: inValue)
                    let disambiguator = try p.optionalBase62("s")
                    let name = try p.undisambiguatedIdentifier()
                    if Self.isUpper(namespace) {
                        // Special namespaces: {closure#0}, {shim:vtable#0}, {K#0}.
                        try p.print("::{")
                        switch namespace {
                        case UInt8(ascii: "C"): try p.print("closure")
                        case UInt8(ascii: "S"): try p.print("shim")
                        default: try p.print([namespace][...])
                        }
                        if !name.isEmpty {
                            try p.print(":")
                            try p.print(name)
                        }
                        try p.print("#\(disambiguator)}")
                    } else if !name.isEmpty {
                        try p.print("::")
                        try p.print(name)
                    }
                case UInt8(ascii: "M"), UInt8(ascii: "X"), UInt8(ascii: "Y"):
                    if tag != UInt8(ascii: "Y") {
                        _ = try p.optionalBase62("s")
                        try p.skipping { try $0.path(inValue: false) }
                    }
                    try p.print("<")
                    try p.type()
                    if tag != UInt8(ascii: "M") {
                        try p.print(" as ")
                        try p.path(inValue: false)
                    }
                    try p.print(">")
                case UInt8(ascii: "I"):
                    try p.path(inValue: inValue)
                    try p.print(inValue ? "::<" : "<")
                    _ = try p.separated(by: ", ") { try $0.genericArgument() }
                    try p.print(">")
                case UInt8(ascii: "B"):
                    try p.backref { try $0.path(inValue: inValue) }
                default:
                    throw Invalid()
                }
            }
        }

        mutating func genericArgument() throws {
            if eat("L") {
                try lifetime(try base62())
            } else if eat("K") {
                try constant()
            } else {
                try type()
            }
        }

        mutating func lifetime(_ index: UInt64) throws {
            if index == 0 { return try print("'_") }
            guard index <= UInt64(boundLifetimeDepth) else { throw Invalid() }
            let depth = UInt64(boundLifetimeDepth) - index
            if depth < 26 {
                try print("'" + String(UnicodeScalar(UInt8(ascii: "a") + UInt8(depth))))
            } else {
                try print("'_\(depth)")
            }
        }

        /// `G<base-62>` bound lifetimes before a fn type or dyn bounds: `for<'a, 'b> `.
        mutating func inBinder(_ body: (inout Printer) throws -> Void) throws {
            let bound = try optionalBase62("G")
            guard bound < 1000 else { throw Invalid() }
            if bound > 0 {
                try print("for<")
                for i in 0..<bound {
                    if i > 0 { try print(", ") }
                    boundLifetimeDepth += 1
                    try lifetime(1)
                }
                try print("> ")
            }
            try body(&self)
            boundLifetimeDepth -= Int(bound)
        }

        static func basicType(_ tag: UInt8) -> String? {
            switch tag {
            case UInt8(ascii: "a"): "i8"
            case UInt8(ascii: "b"): "bool"
            case UInt8(ascii: "c"): "char"
            case UInt8(ascii: "d"): "f64"
            case UInt8(ascii: "e"): "str"
            case UInt8(ascii: "f"): "f32"
            case UInt8(ascii: "h"): "u8"
            case UInt8(ascii: "i"): "isize"
            case UInt8(ascii: "j"): "usize"
            case UInt8(ascii: "l"): "i32"
            case UInt8(ascii: "m"): "u32"
            case UInt8(ascii: "n"): "i128"
            case UInt8(ascii: "o"): "u128"
            case UInt8(ascii: "s"): "i16"
            case UInt8(ascii: "t"): "u16"
            case UInt8(ascii: "u"): "()"
            case UInt8(ascii: "v"): "..."
            case UInt8(ascii: "x"): "i64"
            case UInt8(ascii: "y"): "u64"
            case UInt8(ascii: "z"): "!"
            case UInt8(ascii: "p"): "_"
            default: nil
            }
        }

        mutating func type() throws {
            try nested { p in
                let tag = try p.take()
                if let basic = Self.basicType(tag) { return try p.print(basic) }
                switch tag {
                case UInt8(ascii: "R"), UInt8(ascii: "Q"):
                    try p.print("&")
                    if p.eat("L") {
                        let index = try p.base62()
                        if index != 0 {
                            try p.lifetime(index)
                            try p.print(" ")
                        }
                    }
                    if tag == UInt8(ascii: "Q") { try p.print("mut ") }
                    try p.type()
                case UInt8(ascii: "P"):
                    try p.print("*const ")
                    try p.type()
                case UInt8(ascii: "O"):
                    try p.print("*mut ")
                    try p.type()
                case UInt8(ascii: "A"), UInt8(ascii: "S"):
                    try p.print("[")
                    try p.type()
                    if tag == UInt8(ascii: "A") {
                        try p.print("; ")
                        try p.constant()
                    }
                    try p.print("]")
                case UInt8(ascii: "T"):
                    try p.print("(")
                    let count = try p.separated(by: ", ") { try $0.type() }
                    if count == 1 { try p.print(",") }
                    try p.print(")")
                case UInt8(ascii: "F"):
                    try p.inBinder { p in
                        let isUnsafe = p.eat("U")
                        var abi: String?
                        if p.eat("K") {
                            abi = p.eat("C") ? "C" : String(decoding: try p.undisambiguatedIdentifier().map {
                                $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0
                            }, as: UTF8.self)
                        }
                        if isUnsafe { try p.print("unsafe ") }
                        if let abi { try p.print("extern \"\(abi)\" ") }
                        try p.print("fn(")
                        _ = try p.separated(by: ", ") { try $0.type() }
                        try p.print(")")
                        if !p.eat("u") {
                            try p.print(" -> ")
                            try p.type()
                        }
                    }
                case UInt8(ascii: "D"):
                    try p.print("dyn ")
                    try p.inBinder { p in
                        _ = try p.separated(by: " + ") { try $0.dynTrait() }
                    }
                    guard p.eat("L") else { throw Invalid() }
                    let index = try p.base62()
                    if index != 0 {
                        try p.print(" + ")
                        try p.lifetime(index)
                    }
                case UInt8(ascii: "B"):
                    try p.backref { try $0.type() }
                default:
                    p.next -= 1
                    try p.path(inValue: false)
                }
            }
        }

        /// A trait path whose generic list stays open for `Item = T` bindings.
        mutating func dynTrait() throws {
            var open = try pathMaybeOpenGenerics()
            while eat("p") {
                try print(open ? ", " : "<")
                open = true
                try print(try undisambiguatedIdentifier())
                try print(" = ")
                try type()
            }
            if open { try print(">") }
        }

        mutating func pathMaybeOpenGenerics() throws -> Bool {
            if eat("B") {
                var open = false
                try backref { open = try $0.pathMaybeOpenGenerics() }
                return open
            }
            if eat("I") {
                try path(inValue: false)
                try print("<")
                _ = try separated(by: ", ") { try $0.genericArgument() }
                return true
            }
            try path(inValue: false)
            return false
        }

        /// Const generic arguments: integers, bool, char and `_`, typed as
        /// c++filt prints them (`::<10: usize>`, `::<false: bool>`).
        mutating func constant() throws {
            try nested { p in
                let tag = try p.take()
                switch tag {
                case UInt8(ascii: "B"):
                    try p.backref { try $0.constant() }
                case UInt8(ascii: "p"):
                    try p.print("_")
                case UInt8(ascii: "h"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "y"), UInt8(ascii: "o"), UInt8(ascii: "j"),
                     UInt8(ascii: "a"), UInt8(ascii: "s"), UInt8(ascii: "l"), UInt8(ascii: "x"), UInt8(ascii: "n"), UInt8(ascii: "i"):
                    let negative = Self.isSigned(tag) && p.eat("n")
                    let hex = try p.hexDigits()
                    if negative { try p.print("-") }
                    try p.print(Self.integerText(hex) + ": " + (Self.basicType(tag) ?? ""))
                case UInt8(ascii: "b"):
                    let hex = try p.hexDigits()
                    switch String(decoding: hex, as: UTF8.self) {
                    case "0": try p.print("false: bool")
                    case "1": try p.print("true: bool")
                    default: throw Invalid()
                    }
                case UInt8(ascii: "c"):
                    let hex = try p.hexDigits()
                    guard hex.count <= 8, let value = UInt32(String(decoding: hex, as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(value) else { throw Invalid() }
                    try p.print("'" + String(Character(scalar)).debugDescription.dropFirst().dropLast() + "': char")
                default:
                    throw Invalid()
                }
            }
        }

        static func isSigned(_ tag: UInt8) -> Bool {
            [UInt8(ascii: "a"), UInt8(ascii: "s"), UInt8(ascii: "l"), UInt8(ascii: "x"), UInt8(ascii: "n"), UInt8(ascii: "i")].contains(tag)
        }

        /// Decimal when it fits 64 bits, else `0x…` as rustc-demangle prints it.
        static func integerText(_ hex: ArraySlice<UInt8>) -> String {
            let digits = String(decoding: hex, as: UTF8.self)
            if digits.isEmpty { return "0" }
            if hex.count <= 16, let value = UInt64(digits, radix: 16) { return String(value) }
            return "0x" + digits
        }
    }
}
