using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Accounts;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Tests.Accounts;

/// <summary>The concurrency limit on password hashing (ADR 0008): at most N at once, a bounded queue, then 503 with Retry-After.</summary>
public sealed class PasswordHashingGateTests
{
    [Fact]
    public async Task RunAsync_BeyondTheLimit_Queues_AndBeyondTheQueue_IsRefused()
    {
        using var gate = new PasswordHashingGate(Options.Create(new AccountsOptions { PasswordHashConcurrency = 2, PasswordHashQueueLimit = 1 }));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var mostAtOnce = 0;
        var started = 0;
        async Task<int> Work()
        {
            Interlocked.Increment(ref started);
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostAtOnce, now);
            await release.Task;
            Interlocked.Decrement(ref running);
            return now;
        }

        var first = gate.RunAsync(Work, CancellationToken.None);
        var second = gate.RunAsync(Work, CancellationToken.None);
        var third = gate.RunAsync(Work, CancellationToken.None); // waits in the queue
        Assert.Equal(2, gate.Active);
        Assert.Equal(1, gate.Queued);
        Assert.Equal(2, Volatile.Read(ref started));
        Assert.False(third.IsCompleted);

        var refused = await Assert.ThrowsAsync<PasswordHashingBusyException>(() => gate.RunAsync(Work, CancellationToken.None));
        Assert.True(refused.RetryAfterSeconds >= 1);

        release.SetResult();
        await Task.WhenAll(first, second, third);
        Assert.Equal(3, Volatile.Read(ref started));
        Assert.Equal(2, mostAtOnce);
        Assert.Equal(0, gate.Active);
    }

    [Fact]
    public async Task CpuShare_PacesTheNextTurn_NotTheCaller()
    {
        // A share of 0.5 and no burst: 1 s of hashing reported in an instant leaves the credit at -1 s, which refills
        // at 0.5 s per second, so the turn stays taken 2 s more. The caller returns at once.
        using var gate = PacedGate(share: 0.5, burst: 0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await HashAsync(gate, TimeSpan.FromSeconds(1));
        var firstDone = clock.Elapsed;
        Assert.Equal(0, gate.Active);

        var next = gate.RunAsync(() => Task.FromResult(clock.Elapsed), CancellationToken.None);
        Assert.False(next.IsCompleted, "the next turn started during the pause");
        Assert.True(await next - firstDone >= TimeSpan.FromSeconds(1.9), "the next turn started before the pause was over");
        Assert.True(firstDone < TimeSpan.FromSeconds(1.9), "the caller waited for the pause");

        // Without hashing time there is no pause.
        var free = clock.Elapsed;
        await gate.RunAsync(() => Task.FromResult(true), CancellationToken.None);
        await gate.RunAsync(() => Task.FromResult(true), CancellationToken.None);
        Assert.True(clock.Elapsed - free < TimeSpan.FromSeconds(1.9));

        // Retry-After counts the pause in a turn's length: 2 s of hashing at a share of 0.05 is a 40 s turn.
        using var slow = PacedGate(share: 0.05, burst: 0);
        Assert.Equal(TimeSpan.FromSeconds(1), slow.RetryAfter());
        await HashAsync(slow, TimeSpan.FromSeconds(2));
        Assert.True(slow.RetryAfter() >= TimeSpan.FromSeconds(8), $"Retry-After {slow.RetryAfter()}");
    }

    [Fact]
    public async Task Burst_AFewHashesUnpaced_ThenPaced()
    {
        // The default burst of 0.5 s at a share of 0.25: a 0.3 s hash leaves 0.2 s of credit and the next turn is free
        // at once; a second one leaves -0.1 s, which takes 0.4 s to refill.
        using var gate = PacedGate(share: 0.25, burst: new AccountsOptions().PasswordHashBurstSeconds);
        Task<bool> Hash() => gate.RunAsync(() =>
        {
            PasswordHashingGate.AddHashingTime(TimeSpan.FromSeconds(0.3));
            return Task.FromResult(true);
        }, CancellationToken.None);
        await Hash();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var second = Hash();
        Assert.True(second.IsCompleted, "within the burst the turn was free at once");
        await second;
        var next = gate.RunAsync(() => Task.FromResult(clock.Elapsed), CancellationToken.None);
        Assert.False(next.IsCompleted, "the credit was spent: the turn is paced");
        Assert.True(await next >= TimeSpan.FromSeconds(0.35), "paced for the refill of 0.1 s at 0.25 s per second");
    }

    [Fact]
    public async Task NoTurnFree_AndTheWaitWouldBeTooLong_RefusedAtOnce()
    {
        // 2 s of hashing at a share of 0.05: the turn stays taken for 40 s more, and a turn now averages ~8 s.
        using var gate = PacedGate(share: 0.05, burst: 0, maxWaitSeconds: 5);
        await HashAsync(gate, TimeSpan.FromSeconds(2));

        var refused = await Assert.ThrowsAsync<PasswordHashingBusyException>(() => gate.RunAsync(() => Task.FromResult(true), CancellationToken.None));
        Assert.True(refused.RetryAfter >= TimeSpan.FromSeconds(8), $"Retry-After {refused.RetryAfter}");
        Assert.Equal(0, gate.Queued);

        // Allowed to wait longer, the same caller queues.
        using var patient = PacedGate(share: 0.05, burst: 0, maxWaitSeconds: 60);
        await HashAsync(patient, TimeSpan.FromSeconds(2));
        using var giveUp = new CancellationTokenSource();
        var queued = patient.RunAsync(() => Task.FromResult(true), giveUp.Token);
        Assert.Equal(1, patient.Queued);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
    }

    [Fact]
    public async Task ThrowIfBusy_RefusesExactlyWhenRunAsyncWould_WithoutTakingAPlace()
    {
        using var gate = new PasswordHashingGate(Options.Create(new AccountsOptions { PasswordHashConcurrency = 1, PasswordHashQueueLimit = 1 }));
        gate.ThrowIfBusy(); // a free turn

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = gate.RunAsync(() => release.Task, CancellationToken.None);
        gate.ThrowIfBusy(); // no turn free, but a place in the queue
        Assert.Equal(0, gate.Queued);

        var queued = gate.RunAsync(() => gate.RunAsync(() =>
        {
            gate.ThrowIfBusy(); // inside a turn (nested): never refused
            return Task.FromResult(true);
        }, CancellationToken.None), CancellationToken.None);
        Assert.Equal(1, gate.Queued);
        var refused = Assert.Throws<PasswordHashingBusyException>(gate.ThrowIfBusy);
        Assert.True(refused.RetryAfterSeconds >= 1);
        await Assert.ThrowsAsync<PasswordHashingBusyException>(() => gate.RunAsync(() => Task.FromResult(true), CancellationToken.None));

        release.SetResult();
        await holder;
        Assert.True(await queued);
        gate.ThrowIfBusy();

        // A wait over the bound: refused before any work, as RunAsync refuses it.
        using var paced = PacedGate(share: 0.05, burst: 0, maxWaitSeconds: 5);
        await HashAsync(paced, TimeSpan.FromSeconds(2));
        Assert.Throws<PasswordHashingBusyException>(paced.ThrowIfBusy);
    }

    [Fact]
    public async Task Hasher_ReportsItsTimeToTheTurn()
    {
        using var threads = new PasswordHashingThreads(Options.Create(new AccountsOptions()), NullLogger<PasswordHashingThreads>.Instance);
        var hasher = new GatedPasswordHasher(Options.Create(new PasswordHasherOptions { IterationCount = 210_000 }), threads);
        using var gate = PacedGate(share: 0.05, burst: 0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var hashing = await gate.RunAsync(() =>
        {
            var started = clock.Elapsed;
            hasher.HashPassword(new User(), "a password");
            return Task.FromResult(clock.Elapsed - started);
        }, CancellationToken.None);

        var firstDone = clock.Elapsed;

        // A share of 0.05 with no burst holds the turn for 19 × the hash's time: the next caller waits that long.
        var waited = await gate.RunAsync(() => Task.FromResult(clock.Elapsed), CancellationToken.None) - firstDone;
        Assert.True(waited >= hashing * 19 * 0.9, $"next turn after {waited.TotalMilliseconds:0} ms, the hash took {hashing.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task RunAsync_Nested_ReusesTheCallersTurn()
    {
        using var gate = new PasswordHashingGate(Options.Create(new AccountsOptions { PasswordHashConcurrency = 1, PasswordHashQueueLimit = 0 }));
        var inner = await gate.RunAsync(() => gate.RunAsync(() => Task.FromResult(PasswordHashingGate.IsInside), CancellationToken.None), CancellationToken.None);
        Assert.True(inner);
        Assert.False(PasswordHashingGate.IsInside);
    }

    [Fact]
    public async Task Hasher_OutsideTheGate_Refuses_InsideItHashesAndVerifies()
    {
        using var threads = new PasswordHashingThreads(Options.Create(new AccountsOptions()), NullLogger<PasswordHashingThreads>.Instance);
        var hasher = new GatedPasswordHasher(Options.Create(new PasswordHasherOptions { IterationCount = 210_000 }), threads);
        var user = new User();
        Assert.Throws<InvalidOperationException>(() => hasher.HashPassword(user, "a password"));

        using var gate = new PasswordHashingGate(Options.Create(new AccountsOptions()));
        var result = await gate.RunAsync(() =>
        {
            var hash = hasher.HashPassword(user, "a password");
            return Task.FromResult(hasher.VerifyHashedPassword(user, hash, "a password"));
        }, CancellationToken.None);
        Assert.Equal(PasswordVerificationResult.Success, result);
        Assert.Throws<InvalidOperationException>(() => hasher.VerifyHashedPassword(user, "AQAAAAIAAYagAAAAE", "a password"));
    }

    [Fact]
    public void Threads_RunTheWorkAtTheLowestPriority_AndPassResultsAndExceptionsBack()
    {
        using var threads = new PasswordHashingThreads(Options.Create(new AccountsOptions { PasswordHashConcurrency = 2 }), NullLogger<PasswordHashingThreads>.Instance);
        var caller = Environment.CurrentManagedThreadId;
        var (thread, name, policy) = threads.Run(() =>
            (Environment.CurrentManagedThreadId, Thread.CurrentThread.Name, OperatingSystem.IsLinux() ? PasswordHashingThreads.CurrentPolicy() : -1));
        Assert.NotEqual(caller, thread);
        Assert.StartsWith("Password hashing", name, StringComparison.Ordinal);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(5, policy); // SCHED_IDLE: any runnable chat thread preempts a hash
            Assert.Equal("SCHED_IDLE", threads.Priority);
            Assert.Equal(0, PasswordHashingThreads.CurrentPolicy()); // the caller's own thread keeps its priority
        }

        var thrown = Assert.Throws<InvalidOperationException>(() => threads.Run<int>(() => throw new InvalidOperationException("from the hash")));
        Assert.Equal("from the hash", thrown.Message);
        Assert.Equal(42, threads.Run(() => 42)); // the thread survived the exception
    }

    [Theory]
    [InlineData("Low", 0, "nice 19")]
    [InlineData("Normal", 0, "normal")]
    public void Threads_AtTheConfiguredPriority(string configured, int policy, string described)
    {
        var priority = Enum.Parse<PasswordHashPriority>(configured);
        if (!OperatingSystem.IsLinux())
        {
            return; // Linux scheduling policies; the suite runs on Linux
        }

        using var threads = new PasswordHashingThreads(
            Options.Create(new AccountsOptions { PasswordHashConcurrency = 1, PasswordHashPriority = priority }), NullLogger<PasswordHashingThreads>.Instance);
        var (seen, nice) = threads.Run(() => (PasswordHashingThreads.CurrentPolicy(), ThreadNice()));
        Assert.Equal(policy, seen); // SCHED_OTHER
        Assert.Equal(priority == PasswordHashPriority.Low ? 19 : 0, nice);
        Assert.Equal(described, threads.Priority);
    }

    [Fact]
    public void Concurrency_DefaultsToHalfTheCores_AtLeastOne()
    {
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / 2), new AccountsOptions().EffectivePasswordHashConcurrency);
        Assert.Equal(3, new AccountsOptions { PasswordHashConcurrency = 3 }.EffectivePasswordHashConcurrency);
    }

    /// <summary>A gate with one turn, paced to <paramref name="share"/> of its core.</summary>
    private static PasswordHashingGate PacedGate(double share, double burst, int maxWaitSeconds = 10) =>
        new(Options.Create(new AccountsOptions
        {
            PasswordHashConcurrency = 1, PasswordHashCpuShare = share, PasswordHashBurstSeconds = burst, PasswordHashMaxWaitSeconds = maxWaitSeconds,
        }));

    /// <summary>A turn that reports <paramref name="hashing"/> of hashing, as <see cref="GatedPasswordHasher"/> does, in no time.</summary>
    private static Task<bool> HashAsync(PasswordHashingGate gate, TimeSpan hashing) =>
        gate.RunAsync(() =>
        {
            PasswordHashingGate.AddHashingTime(hashing);
            return Task.FromResult(true);
        }, CancellationToken.None);

    /// <summary>The calling thread's nice value, from /proc (field 19 of its stat line).</summary>
    private static int ThreadNice()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture); // field 19 overall; 3 is the first after the name
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}

/// <summary>The endpoints that hash, with the gate full: they wait in the queue, then are refused with 503 and Retry-After.</summary>
public abstract class PasswordHashingLimitTests(Provider provider)
{
    [Fact]
    public async Task Registration_And_Login_WhenHashingIsSaturated_QueueThenAre503WithRetryAfter()
    {
        await using var server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Accounts:PasswordHashConcurrency"] = "1",
            ["ConnText:Accounts:PasswordHashQueueLimit"] = "1",
        });
        await SignedInUsers.RegisterAsync(server, "alice");
        var gate = server.Services.GetRequiredService<PasswordHashingGate>();

        // Another sign-in holds the only turn (as a long hash would).
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = gate.RunAsync(() => release.Task, CancellationToken.None);
        Assert.Equal(1, gate.Active);

        // The next one waits for a turn ...
        var queued = server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("bob", SignedInUsers.Password));
        await WaitUntilAsync(() => gate.Queued == 1);
        Assert.False(queued.IsCompleted);

        // ... and with the queue full, the API refuses at once with a problem and Retry-After ...
        using (var refused = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("carol", SignedInUsers.Password)))
        {
            await refused.AssertProblemAsync(503, ProblemTypes.ServiceUnavailable);
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After tells when to come back");
        }

        // ... and so does the login page (an HTML page, as the browser expects): the form itself says so before a
        // password is typed, and a form posted anyway is refused too.
        using (var browser = new OAuthBrowser(server.Address))
        {
            using var page = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50210), OAuthBrowser.NewVerifier()));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.True(page.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("The server is busy signing other people in. Try again in", html, StringComparison.Ordinal);
            Assert.Contains("name=\"Password\"", html, StringComparison.Ordinal);

            using var busy = await browser.SubmitLoginAsync(page, "alice", SignedInUsers.Password);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
            Assert.True(busy.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Contains("busy", await busy.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // When the turn is free, the queued registration completes; carol was not created.
        release.SetResult();
        await holder;
        using (var bob = await queued)
        {
            Assert.Equal(HttpStatusCode.Created, bob.StatusCode);
        }

        using (var browser = new OAuthBrowser(server.Address))
        {
            // With hashing free again, the page is the plain form.
            using var page = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50210), OAuthBrowser.NewVerifier()));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.DoesNotContain("busy", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var alice = await SignedInUsers.SignInAsync(server, "alice");
        using var me = await alice.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        await SignedInUsers.RegisterAsync(server, "carol");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}

public sealed class SqlitePasswordHashingLimitTests() : PasswordHashingLimitTests(Provider.Sqlite);

public sealed class PostgresPasswordHashingLimitTests() : PasswordHashingLimitTests(Provider.Postgres);
