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
}

#if os(Linux)
// <malloc.h> is not part of Glibc's Swift module; mallopt(3) and M_ARENA_MAX (-8) are
// stable glibc ABI.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let mArenaMax: Int32 = -8
#endif
