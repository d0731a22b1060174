using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Accounts;

/// <summary>
/// Dedicated threads, one per hashing turn of <see cref="PasswordHashingGate"/>, by default at the operating system's
/// lowest CPU priority (<see cref="AccountsOptions.PasswordHashPriority"/>): on Linux the <c>SCHED_IDLE</c> policy (a
/// runnable chat thread always preempts them; falling back to nice 19 if the kernel refuses), elsewhere
/// <see cref="ThreadPriority.Lowest"/>. The gate bounds how many cores a login
/// storm may take; these threads make the hashes use only CPU time nothing else wants, so chat delivery does not wait
/// behind them (ADR 0008). The caller blocks while its hash runs here; the gate keeps at most
/// <see cref="PasswordHashingGate.Concurrency"/> callers doing so.
/// </summary>
internal sealed partial class PasswordHashingThreads : IDisposable
{
    private const int SchedIdle = 5;
    private const int PrioProcess = 0;
    private readonly BlockingCollection<IWorkItem> queue = [];
    private readonly Thread[] threads;
    private readonly ILogger<PasswordHashingThreads> logger;
    private readonly PasswordHashPriority wanted;
    private int lowered;

    public PasswordHashingThreads(IOptions<AccountsOptions> options, ILogger<PasswordHashingThreads> logger)
    {
        this.logger = logger;
        wanted = options.Value.PasswordHashPriority;
        threads = [.. Enumerable.Range(1, options.Value.EffectivePasswordHashConcurrency)
            .Select(i => new Thread(Work) { IsBackground = true, Name = $"Password hashing {i}" })];
        foreach (var thread in threads)
        {
            thread.Start();
        }
    }

    private interface IWorkItem
    {
        void Execute();
    }

    /// <summary>How the threads' priority was set (for logs and tests): "SCHED_IDLE", "nice 19", "Lowest", "normal" or "not lowered".</summary>
    public string Priority { get; private set; } = "starting";

    /// <summary>
    /// Runs <paramref name="work"/> on a hashing thread and returns its result (or rethrows its exception), blocking
    /// the caller meanwhile: Identity's <c>IPasswordHasher</c> is synchronous.
    /// </summary>
    public T Run<T>(Func<T> work)
    {
        var item = new WorkItem<T>(work);
        queue.Add(item);
        return item.Wait();
    }

    public void Dispose()
    {
        queue.CompleteAdding();
        foreach (var thread in threads)
        {
            thread.Join(TimeSpan.FromSeconds(5)); // a hash in progress takes ~0.1 s
        }

        queue.Dispose();
    }

    private void Work()
    {
        var how = LowerPriority(wanted);
        Priority = how;
        if (Interlocked.Exchange(ref lowered, 1) == 0)
        {
            LogPriority(logger, how);
        }

        foreach (var item in queue.GetConsumingEnumerable())
        {
            item.Execute();
        }
    }

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Password hashing runs on its own threads, CPU priority: {Priority}")]
    private static partial void LogPriority(ILogger logger, string priority);

    private static string LowerPriority(PasswordHashPriority wanted)
    {
        if (wanted == PasswordHashPriority.Normal)
        {
            return "normal";
        }

        if (OperatingSystem.IsLinux())
        {
            try
            {
                // Linux scheduling attributes are per thread: the calling thread's id, not the process's.
                var thread = Gettid();
                var none = default(SchedParam);
                if (wanted == PasswordHashPriority.Idle && SchedSetscheduler(thread, SchedIdle, ref none) == 0)
                {
                    return "SCHED_IDLE";
                }

                if (SetPriority(PrioProcess, thread, 19) == 0)
                {
                    return "nice 19";
                }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (or too old for gettid): the portable request below.
            }
        }

        try
        {
            Thread.CurrentThread.Priority = ThreadPriority.Lowest;
            return "Lowest";
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or ThreadStateException)
        {
            return "not lowered";
        }
    }

    /// <summary>The calling thread's scheduling policy (Linux; for tests): 5 is <c>SCHED_IDLE</c>, 0 <c>SCHED_OTHER</c>.</summary>
    internal static int CurrentPolicy() => SchedGetscheduler(0);

    // The caller waits on a Task, not on an event: a thread-pool thread blocked in Task.Wait tells the pool
    // (ThreadPool.NotifyThreadBlocked), which starts another worker at once instead of after its starvation delay.
    // Blocked on an event, the caller's thread was invisibly out of the pool for the ~0.1 s of each hash, one of
    // only two minimum workers on a two-core machine (docs/performance.md, "Login storm").
    private sealed class WorkItem<T>(Func<T> work) : IWorkItem
    {
        private readonly TaskCompletionSource<T> done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Execute()
        {
            try
            {
                done.SetResult(work());
            }
#pragma warning disable CA1031 // not swallowed: rethrown on the caller's thread by Wait
            catch (Exception ex)
#pragma warning restore CA1031
            {
                done.SetException(ex);
            }
        }

        // Blocking on purpose: Identity's IPasswordHasher is synchronous (see Run).
#pragma warning disable RS0030
        public T Wait() => done.Task.GetAwaiter().GetResult();
#pragma warning restore RS0030
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedParam
    {
        public int Priority;
    }

    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int Gettid();

    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SchedSetscheduler(int pid, int policy, ref SchedParam param);

    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    [LibraryImport("libc", EntryPoint = "sched_getscheduler", SetLastError = true)]
    private static partial int SchedGetscheduler(int pid);

    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);
}
