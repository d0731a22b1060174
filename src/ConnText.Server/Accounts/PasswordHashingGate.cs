using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Accounts;

/// <summary>
/// Bounds how many password hashes (PBKDF2, ~0.1 s of one core each) run at once, so a login storm takes at
/// most <see cref="Concurrency"/> cores and chat keeps the rest (ADR 0008). Callers wait their turn in a bounded
/// queue, asynchronously (no thread is held while waiting); when the queue is full the attempt is refused at once
/// with <see cref="PasswordHashingBusyException"/>, which the endpoints answer with 503 and <c>Retry-After</c>.
/// Every hash and verification goes through <see cref="RunAsync{T}"/>: <see cref="GatedPasswordHasher"/> refuses
/// to hash outside it, so a new code path that forgets the gate fails its first test instead of slipping past.
/// With <see cref="AccountsOptions.PasswordHashCpuShare"/> below 1 turns are also paced, like a token bucket of hashing
/// time: a credit of at most <see cref="AccountsOptions.PasswordHashBurstSeconds"/> refills at <c>share</c> seconds per
/// second per turn, each hash spends its time, and a turn that leaves the credit below zero stays taken until it is
/// back at zero. A few sign-ins now and then never wait; in a storm the hashes use at most that share of each turn's
/// core (after a hash of <c>t</c>, a pause of <c>t × (1 ÷ share − 1)</c>). The caller does not wait for the pause; only
/// the next one in the queue does.
/// </summary>
internal sealed class PasswordHashingGate : IDisposable
{
    private static readonly AsyncLocal<Turn?> Current = new();
    private readonly ConcurrencyLimiter limiter;
    private readonly double cpuShare;
    private readonly double burstSeconds;
    private readonly TimeSpan maxWait;
    private readonly Lock paceLock = new();
    private double averageSeconds = 0.1; // ADR 0008's measured cost until the first hash says otherwise
    private double creditSeconds;
    private long creditUpdated = Stopwatch.GetTimestamp();
    private int active;

    public PasswordHashingGate(IOptions<AccountsOptions> options)
    {
        Concurrency = options.Value.EffectivePasswordHashConcurrency;
        QueueLimit = options.Value.PasswordHashQueueLimit;
        cpuShare = options.Value.PasswordHashCpuShare;
        burstSeconds = creditSeconds = options.Value.PasswordHashBurstSeconds;
        maxWait = TimeSpan.FromSeconds(options.Value.PasswordHashMaxWaitSeconds);
        limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = Concurrency,
            QueueLimit = QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public int Concurrency { get; }

    public int QueueLimit { get; }

    /// <summary>Hashes running now (at most <see cref="Concurrency"/>).</summary>
    public int Active => Volatile.Read(ref active);

    /// <summary>Callers waiting for a turn (at most <see cref="QueueLimit"/>).</summary>
    public long Queued => limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>True in code running inside <see cref="RunAsync{T}"/> (the async flow holds a turn).</summary>
    public static bool IsInside => Current.Value is not null;

    /// <summary>
    /// Runs <paramref name="work"/> (which hashes or verifies passwords) when a turn is free. Nested calls reuse the
    /// caller's turn. Throws <see cref="PasswordHashingBusyException"/> when the queue is full, or when no turn is free
    /// and the wait for one would likely exceed <see cref="AccountsOptions.PasswordHashMaxWaitSeconds"/> (an answer
    /// with <c>Retry-After</c> at once beats a sign-in page that spins for half a minute).
    /// </summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        if (Current.Value is not null)
        {
            return await work();
        }

        ThrowIfBusy();
        var lease = await limiter.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new PasswordHashingBusyException(RetryAfter());
        }

        // Set here, inside this async method: the value flows into work() and is dropped when this method returns.
        var turn = new Turn();
        Current.Value = turn;
        Interlocked.Increment(ref active);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await work();
        }
        finally
        {
            Interlocked.Decrement(ref active);
            var pause = Pace(started, turn.Hashing);
            Record((Stopwatch.GetElapsedTime(started) + pause).TotalSeconds);
            Release(lease, pause);
        }
    }

    /// <summary>
    /// Throws <see cref="PasswordHashingBusyException"/> when a caller arriving now would be refused (the queue is full,
    /// or the wait would exceed <see cref="AccountsOptions.PasswordHashMaxWaitSeconds"/>). The sign-in and registration
    /// endpoints ask before their database work, so an attempt turned away in a storm costs no query; <see cref="RunAsync{T}"/>
    /// asks again, as the answer can change in between.
    /// </summary>
    public void ThrowIfBusy()
    {
        if (BusyFor() is { } retryAfter)
        {
            throw new PasswordHashingBusyException(retryAfter);
        }
    }

    /// <summary>When a caller arriving now would be refused: how long until it would likely get a turn; else null.</summary>
    public TimeSpan? BusyFor()
    {
        if (Current.Value is not null)
        {
            return null;
        }

        // A free turn never refuses; with none free, a full queue does, and so does the queue ahead at the recent pace
        // of turns when it would keep the caller longer than the bound.
        if (limiter.GetStatistics() is not { CurrentAvailablePermits: 0 } statistics)
        {
            return null;
        }

        double average;
        lock (paceLock)
        {
            average = averageSeconds;
        }

        var wait = TimeSpan.FromSeconds(average * (statistics.CurrentQueuedCount + 1) / Concurrency);
        return statistics.CurrentQueuedCount >= QueueLimit || wait > maxWait ? RetryAfter() : null;
    }

    /// <summary>Adds the time a hash of the current turn took (called by the hasher, inside <see cref="RunAsync{T}"/>).</summary>
    public static void AddHashingTime(TimeSpan elapsed)
    {
        if (Current.Value is { } turn)
        {
            turn.Hashing += elapsed;
        }
    }

    public Task RunAsync(Func<Task> work, CancellationToken cancellationToken) =>
        RunAsync(async () =>
        {
            await work();
            return true;
        }, cancellationToken);

    /// <summary>How long until a refused caller would likely get a turn: the queue ahead of it at the recent pace.</summary>
    public TimeSpan RetryAfter()
    {
        double average;
        lock (paceLock)
        {
            average = averageSeconds;
        }

        var seconds = average * (Queued + Concurrency) / Concurrency;
        return TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(seconds), 1, 60));
    }

    private void Record(double seconds)
    {
        lock (paceLock)
        {
            averageSeconds += (seconds - averageSeconds) * 0.2;
        }
    }

    public void Dispose() => limiter.Dispose();

    /// <summary>Spends a turn's hashing time from the credit; the pause that brings a negative credit back to zero.</summary>
    private TimeSpan Pace(long started, TimeSpan hashing)
    {
        if (cpuShare >= 1)
        {
            return TimeSpan.Zero;
        }

        var perSecond = cpuShare * Concurrency;
        lock (paceLock)
        {
            // Refill up to the turn's start (capped at the burst), then over the turn itself, and spend its hashes.
            var now = Stopwatch.GetTimestamp();
            var turnStart = Math.Max(started, creditUpdated);
            creditSeconds = Math.Min(burstSeconds, creditSeconds + Stopwatch.GetElapsedTime(creditUpdated, turnStart).TotalSeconds * perSecond);
            creditSeconds = Math.Min(burstSeconds, creditSeconds + Stopwatch.GetElapsedTime(turnStart, now).TotalSeconds * perSecond - hashing.TotalSeconds);
            creditUpdated = now;
            return creditSeconds < 0 ? TimeSpan.FromSeconds(-creditSeconds / perSecond) : TimeSpan.Zero;
        }
    }

    /// <summary>Gives the turn back, after <paramref name="pause"/> when pacing (the caller does not wait for it).</summary>
    private static void Release(RateLimitLease lease, TimeSpan pause)
    {
        if (pause <= TimeSpan.Zero)
        {
            lease.Dispose();
            return;
        }

        // The limiter ignores a lease given back after it was disposed (the server stopping during a pause).
        _ = Task.Delay(pause, CancellationToken.None).ContinueWith(_ => lease.Dispose(), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>One caller's turn: how long its hashes took (the pacing's measure, not the database work around them).</summary>
    private sealed class Turn
    {
        public TimeSpan Hashing { get; set; }
    }
}

/// <summary>Too many password hashes are running and waiting; retry after <see cref="RetryAfter"/>.</summary>
internal sealed class PasswordHashingBusyException : Exception
{
    public PasswordHashingBusyException()
        : this(TimeSpan.FromSeconds(1))
    {
    }

    public PasswordHashingBusyException(string message)
        : base(message)
    {
    }

    public PasswordHashingBusyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PasswordHashingBusyException(TimeSpan retryAfter)
        : base("Too many sign-ins and password changes are in progress.")
    {
        RetryAfter = retryAfter;
    }

    public TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Whole seconds for the <c>Retry-After</c> header (at least 1).</summary>
    public int RetryAfterSeconds => WholeSeconds(RetryAfter);

    /// <summary>A <c>Retry-After</c> value: whole seconds, at least one.</summary>
    public static int WholeSeconds(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
}

/// <summary>
/// Identity's own PBKDF2 hasher (ADR 0008), refusing to run outside <see cref="PasswordHashingGate"/>: the gate is
/// the only thing keeping a login storm off the cores chat needs, so an ungated path is a bug to catch in tests.
/// The hash itself runs on <see cref="PasswordHashingThreads"/>, at the lowest CPU priority.
/// </summary>
internal sealed class GatedPasswordHasher(IOptions<PasswordHasherOptions> options, PasswordHashingThreads threads) : IPasswordHasher<User>
{
    private readonly PasswordHasher<User> inner = new(options);

    public string HashPassword(User user, string password)
    {
        EnsureInsideGate();
        return Timed(() => threads.Run(() => inner.HashPassword(user, password)));
    }

    public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
    {
        EnsureInsideGate();
        return Timed(() => threads.Run(() => inner.VerifyHashedPassword(user, hashedPassword, providedPassword)));
    }

    private static T Timed<T>(Func<T> hash)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return hash();
        }
        finally
        {
            PasswordHashingGate.AddHashingTime(Stopwatch.GetElapsedTime(started));
        }
    }

    private static void EnsureInsideGate()
    {
        if (!PasswordHashingGate.IsInside)
        {
            throw new InvalidOperationException(
                "Password hashing outside PasswordHashingGate.RunAsync: wrap the UserManager/SignInManager call that hashes in the gate.");
        }
    }
}
