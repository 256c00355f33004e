import CGtraceFormat

/// A blocking call the runtime wraps (`enum gtrace_block_call`).
public struct BlockingCall: RawRepresentable, Sendable, Hashable, Codable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// What a thread blocked in this call waits for.
    public enum Category: String, Sendable, Codable, CaseIterable {
        case sleep, child, sync, io
    }

    private static let names: [String] = [
        "?", "nanosleep", "clock_nanosleep", "usleep", "sleep", "waitpid", "wait", "wait4", "waitid",
        "sem_wait", "sem_timedwait", "sem_clockwait", "pthread_join", "pthread_timedjoin_np", "pthread_clockjoin_np",
        "select", "pselect", "poll", "ppoll", "epoll_wait", "epoll_pwait", "read", "write", "recv", "send",
        "accept", "connect", "recvfrom", "sendto", "accept4", "recvmsg", "sendmsg", "readv", "writev",
        "sigsuspend", "pause", "pthread_barrier_wait",
    ]

    public var name: String {
        Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : "call\(rawValue)"
    }

    public var isWaitForChild: Bool {
        (UInt32(GTRACE_CALL_WAITPID.rawValue) ... UInt32(GTRACE_CALL_WAITID.rawValue)).contains(UInt32(rawValue))
    }

    /// pthread_join and its timed variants (BEGIN's small argument: the joined tid).
    public var isJoin: Bool {
        (UInt32(GTRACE_CALL_PTHREAD_JOIN.rawValue) ... UInt32(GTRACE_CALL_PTHREAD_CLOCKJOIN.rawValue)).contains(UInt32(rawValue))
    }

    /// select, pselect, poll, ppoll, epoll_wait, epoll_pwait.
    public var isMultiplex: Bool {
        (UInt32(GTRACE_CALL_SELECT.rawValue) ... UInt32(GTRACE_CALL_EPOLL_PWAIT.rawValue)).contains(UInt32(rawValue))
    }

    /// read, recv, recvfrom, recvmsg, readv: a result of 0 is end-of-file.
    public var isRead: Bool {
        [GTRACE_CALL_READ, GTRACE_CALL_RECV, GTRACE_CALL_RECVFROM, GTRACE_CALL_RECVMSG, GTRACE_CALL_READV]
            .contains { UInt32(rawValue) == $0.rawValue }
    }

    /// True for the I/O calls recorded only once they blocked (one BLOCK_END).
    public var isDataTransfer: Bool {
        (UInt32(GTRACE_CALL_READ.rawValue) ... UInt32(GTRACE_CALL_WRITEV.rawValue)).contains(UInt32(rawValue))
    }

    /// select/poll with no descriptors is how a program (and Python before
    /// 3.11's `time.sleep`) sleeps.
    public func category(smallArgument: UInt32) -> Category {
        switch UInt32(rawValue) {
        case GTRACE_CALL_NANOSLEEP.rawValue ... GTRACE_CALL_SLEEP.rawValue: return .sleep
        // A wait for a signal: a shell's for its jobs' SIGCHLD, which the replay ties to the child it reaps.
        case GTRACE_CALL_SIGSUSPEND.rawValue ... GTRACE_CALL_PAUSE.rawValue: return .sleep
        case GTRACE_CALL_PTHREAD_BARRIER_WAIT.rawValue: return .sync
        case GTRACE_CALL_WAITPID.rawValue ... GTRACE_CALL_WAITID.rawValue: return .child
        case GTRACE_CALL_SEM_WAIT.rawValue ... GTRACE_CALL_PTHREAD_CLOCKJOIN.rawValue: return .sync
        case GTRACE_CALL_SELECT.rawValue ... GTRACE_CALL_PPOLL.rawValue where smallArgument == 0: return .sleep
        default: return .io
        }
    }

    /// "waitpid(1234)", "clock_nanosleep 100 ms", "read(fd 5)": the call as a
    /// slice name. `argument` is the requested time for sleeps and timeouts.
    public func label(smallArgument: UInt32, argument: UInt64) -> String {
        switch category(smallArgument: smallArgument) {
        case .sleep:
            return argument == UInt64.max || argument == 0 ? name : "\(name) \(Self.duration(argument))"
        case .child:
            let pid = Int32(bitPattern: smallArgument)
            return pid == -1 ? "\(name)(any child)" : "\(name)(\(pid))"
        case .sync:
            return name
        case .io:
            if UInt32(rawValue) >= GTRACE_CALL_READ.rawValue { return "\(name)(fd \(smallArgument))" }
            return "\(name)(\(smallArgument) fds)"
        }
    }

    /// Requested times to a tenth of the unit: "200 ms", "1.5 s", "250 µs".
    /// (An absolute deadline arrives as a few µs less than the round figure.)
    static func duration(_ ns: UInt64) -> String {
        func tenths(_ unit: UInt64, _ name: String) -> String {
            let t = (ns + unit / 20) / (unit / 10)
            return t % 10 == 0 ? "\(t / 10) \(name)" : "\(t / 10).\(t % 10) \(name)"
        }
        if ns >= 999_950_000 { return tenths(1_000_000_000, "s") }
        if ns >= 999_950 { return tenths(1_000_000, "ms") }
        if ns >= 1000 { return tenths(1000, "µs") }
        return "\(ns) ns"
    }
}
