/// glibc gives each thread that contends for the heap its own arena (up to eight per core)
/// and returns little of them to the system; with the event loops and Swift's cooperative
/// threads all allocating, much of a large run's peak RSS was arenas' slack. Two arenas
/// serve a process whose work runs on one event loop per core.
public enum MemoryTuning {
    public static func limitMallocArenas() {
        #if os(Linux)
        _ = glibcMallopt(mArenaMax, 2)
        #endif
    }

    /// Hands the heap's free pages back to the system (malloc_trim(3)): glibc returns only
    /// the top of each arena on its own, and the pages a finished phase freed in the middle
    /// (the config's YAML tree, the probes' connection buffers) otherwise stay resident
    /// under the next phase's peak.
    public static func releaseFreePages() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }
}

#if os(Linux)
// <malloc.h> is not part of Glibc's Swift module; mallopt(3) and M_ARENA_MAX (-8) are
// stable glibc ABI.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let mArenaMax: Int32 = -8
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
