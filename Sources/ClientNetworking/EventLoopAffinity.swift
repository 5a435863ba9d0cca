public import NIOCore
import NIOPosix

/// Runs a task on one NIO event loop, and opens its connections on that loop.
///
/// Without it every response crosses threads twice: the event loop reads it and wakes a
/// thread of Swift's cooperative pool, which runs the probe's next step and hands its write
/// back to the loop. A profile of a 1,000-account run spent a third of its CPU in the kernel
/// switching between them. With the loop as the task's executor (SE-0417) and the channel
/// on the same loop, a response is parsed, awaited and answered on one thread.
public enum EventLoopAffinity {
    /// The loop connections opened by the current task use; nil: any loop of the group.
    @TaskLocal public static var current: (any EventLoop)?

    /// `body` with the loop as its executor preference and its connections' loop.
    public static func run<T>(on loop: any EventLoop, _ body: () async -> T) async -> T {
        await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
            await $current.withValue(loop) { await body() }
        }
    }

    /// The loops tasks are spread over: the shared group's.
    public static func loops() -> [any EventLoop] {
        Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
    }
}

/// A `TaskExecutor` that runs jobs on an event loop (`execute` from the loop itself is a
/// queue append, no wake-up).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
