#if canImport(Glibc)
import Glibc
#endif

/// What this process inherited for a signal: gtrace must keep an inherited
/// "ignore" (nohup, a shell's background job) for itself and for the command.
public enum SignalDisposition {
    /// True when `signal` is currently ignored (SIG_IGN).
    public static func isIgnored(_ signal: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(signal, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1
    }
}
