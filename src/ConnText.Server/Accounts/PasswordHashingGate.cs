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
/// </summary>
internal sealed class PasswordHashingGate : IDisposable
{
    private static readonly AsyncLocal<bool> Inside = new();
    private readonly ConcurrencyLimiter limiter;
    private readonly Lock averageLock = new();
    private double averageSeconds = 0.1; // ADR 0008's measured cost until the first hash says otherwise
    private int active;

    public PasswordHashingGate(IOptions<AccountsOptions> options)
    {
        Concurrency = options.Value.EffectivePasswordHashConcurrency;
        QueueLimit = options.Value.PasswordHashQueueLimit;
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
    public static bool IsInside => Inside.Value;

    /// <summary>
    /// Runs <paramref name="work"/> (which hashes or verifies passwords) when a turn is free. Nested calls reuse the
    /// caller's turn. Throws <see cref="PasswordHashingBusyException"/> when the queue is full.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        if (Inside.Value)
        {
            return await work();
        }

        using var lease = await limiter.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new PasswordHashingBusyException(RetryAfter());
        }

        // Set here, inside this async method: the value flows into work() and is dropped when this method returns.
        Inside.Value = true;
        Interlocked.Increment(ref active);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await work();
        }
        finally
        {
            Interlocked.Decrement(ref active);
            Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
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
        lock (averageLock)
        {
            average = averageSeconds;
        }

        var seconds = average * (Queued + Concurrency) / Concurrency;
        return TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(seconds), 1, 60));
    }

    private void Record(double seconds)
    {
        lock (averageLock)
        {
            averageSeconds += (seconds - averageSeconds) * 0.2;
        }
    }

    public void Dispose() => limiter.Dispose();
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
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(RetryAfter.TotalSeconds));
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
        return threads.Run(() => inner.HashPassword(user, password));
    }

    public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
    {
        EnsureInsideGate();
        return threads.Run(() => inner.VerifyHashedPassword(user, hashedPassword, providedPassword));
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
