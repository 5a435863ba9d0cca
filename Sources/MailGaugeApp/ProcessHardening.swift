#if canImport(Glibc)
import Glibc
#endif

/// The process holds every mailbox's password for a while: it must never be written to a
/// core file. RLIMIT_CORE 0 stops classic core files; a `core_pattern` pipe (systemd-
/// coredump) ignores that limit, so the process is also marked not dumpable, which
/// additionally keeps other processes of the same user from attaching to it.
public enum ProcessHardening {
    public static func disableCoreDumps() {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
        #if os(Linux)
        _ = linuxPrctl(prSetDumpable, 0, 0, 0, 0)
        #endif
    }

    /// The soft limit on open files raised to the hard one, as Go's runtime does: systemd's
    /// default soft limit (1,024) would let anyone holding idle sockets to `serve` starve
    /// it of descriptors, and a pass holds one per IMAP connection. NIO uses epoll, never
    /// select(2), so descriptors above 1,024 are safe. Returns the limit now in force.
    @discardableResult
    public static func raiseOpenFileLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }

    /// Whether the kernel would write a core file for this process (for tests).
    public static var coreDumpsDisabled: Bool {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0 else { return false }
        #if os(Linux)
        return limit.rlim_cur == 0 && linuxPrctl(prGetDumpable, 0, 0, 0, 0) == 0
        #else
        return limit.rlim_cur == 0
        #endif
    }
}

#if os(Linux)
// prctl(2) is variadic in C, which Swift does not import; its integer arguments are
// passed the same way in a fixed prototype on Linux's ABIs.
/// <linux/prctl.h>, not exported by Glibc's module.
private let prGetDumpable: Int32 = 3
private let prSetDumpable: Int32 = 4

@_silgen_name("prctl")
private func linuxPrctl(_ option: Int32, _ arg2: UInt, _ arg3: UInt, _ arg4: UInt, _ arg5: UInt) -> Int32
#endif
