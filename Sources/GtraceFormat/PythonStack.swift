/// A Python stack of up to `capacity` frames, innermost first, stored inline:
/// an `EventKind` that holds one stays a trivial type, copied without
/// reference counting (a report or a merge copies every event several times).
/// The recorder writes at most `capacity` frames per location (the runtime's
/// GT_PY_DEPTH); a reader keeps the innermost `capacity` of a longer stack.
public struct PythonStack: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public static let capacity = 4

    /// Per frame: the code index + 1 (0: unnamed) in the high half, the line in the low half.
    private var packed: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var used: UInt8 = 0

    public init() {}

    /// The first `capacity` of `frames`.
    public init<S: Sequence>(_ frames: S) where S.Element == PythonFrame {
        for frame in frames where !append(frame) { break }
    }

    public init(arrayLiteral frames: PythonFrame...) {
        self.init(frames)
    }

    /// Adds an outer frame; false (and nothing added) when the stack is full.
    @discardableResult
    public mutating func append(_ frame: PythonFrame) -> Bool {
        guard Int(used) < Self.capacity else { return false }
        let code = frame.code.map { UInt64(UInt32(truncatingIfNeeded: $0 + 1)) } ?? 0
        let word = code << 32 | UInt64(frame.line)
        switch used {
        case 0: packed.0 = word
        case 1: packed.1 = word
        case 2: packed.2 = word
        default: packed.3 = word
        }
        used += 1
        return true
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(used) }

    public subscript(position: Int) -> PythonFrame {
        precondition(position >= 0 && position < Int(used), "PythonStack index out of range")
        let word: UInt64
        switch position {
        case 0: word = packed.0
        case 1: word = packed.1
        case 2: word = packed.2
        default: word = packed.3
        }
        let code = Int(word >> 32)
        return PythonFrame(code: code == 0 ? nil : code - 1, line: UInt32(truncatingIfNeeded: word))
    }

    public static func == (a: PythonStack, b: PythonStack) -> Bool {
        a.elementsEqual(b)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(used)
        for frame in self { hasher.combine(frame) }
    }

    public var description: String { "\(Array(self))" }
}
