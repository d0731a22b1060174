using System.Collections.Concurrent;
using ConnText.Server.Data;
using ConnText.Server.Data.Sqlite;
using ConnText.Server.Messages;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Data;

/// <summary>How the server's SQLite connections are set up.</summary>
public sealed class SqliteConnectionTests
{
    [Fact]
    public async Task EveryConnection_WaitsInsideSqlite_ForTheWriteLock()
    {
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite);
        for (var i = 0; i < 2; i++) // a fresh connection, then one from the pool
        {
            using var scope = server.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
            await db.Database.OpenConnectionAsync();
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA busy_timeout";

            // SQLite's own busy handler (retries after 1, 2, 5 … 100 ms) for the connection's 30 s, instead of
            // Microsoft.Data.Sqlite's retry loop that sleeps 150 ms between attempts.
            Assert.Equal(30_000L, await command.ExecuteScalarAsync());
            Assert.Equal("wal", await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToAsyncEnumerable().SingleAsync());
        }
    }

    [Fact]
    public async Task WriteTransactions_WaitForEachOther_InTheServer_InArrivalOrder()
    {
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite);
        var scopes = Enumerable.Range(0, 6).Select(_ => server.Services.CreateScope()).ToList();
        try
        {
            var contexts = scopes.Select(s => s.ServiceProvider.GetRequiredService<ConnTextDbContext>()).ToList();
            var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var holder = contexts[0];
#pragma warning disable CA2025 // awaited below, before its scope is disposed in the finally
            var first = Sequencer.InTransactionAsync(holder, async _ =>
            {
                holding.SetResult();
                await release.Task;
                return 0;
            }, CancellationToken.None);
#pragma warning restore CA2025
            await holding.Task; // BEGIN IMMEDIATE done: this transaction holds SQLite's write lock

            var order = new ConcurrentQueue<int>();
            var waiting = new List<Task<int>>();
            for (var i = 1; i < contexts.Count; i++)
            {
                var writer = i;
                var db = contexts[writer];
                // Returns at once with a pending task: the writer waits in the server, holding no thread. Without the
                // gate this call would block the calling thread inside SQLite's busy handler (and, the lock never
                // being released meanwhile, fail with "database is locked" after the busy timeout).
#pragma warning disable CA2025 // each task is awaited below, before its scope is disposed in the finally
                waiting.Add(Sequencer.InTransactionAsync(db, _ =>
                {
                    order.Enqueue(writer);
                    return Task.FromResult(writer);
                }, CancellationToken.None));
#pragma warning restore CA2025
                Assert.False(waiting[^1].IsCompleted);
            }

            release.SetResult();
            await first;
            await Task.WhenAll(waiting);
            Assert.Equal([1, 2, 3, 4, 5], order);
        }
        finally
        {
            foreach (var scope in scopes)
            {
                scope.Dispose();
            }
        }
    }

    [Fact]
    public async Task WriteGate_WaitsAsLongAsSqliteWould_ThenFailsAsSqliteDoes()
    {
        var gate = SqliteWriteGate.For("Data Source=gate-test.db;Default Timeout=1");
        Assert.Same(gate, SqliteWriteGate.For("Data Source=gate-test.db;Default Timeout=1"));
        using (await gate.EnterAsync(CancellationToken.None))
        {
            // Another database's writers do not wait for this one's.
            using (await SqliteWriteGate.For("Data Source=other-gate-test.db;Default Timeout=1").EnterAsync(CancellationToken.None))
            {
            }

            var started = DateTimeOffset.UtcNow;
            var busy = await Assert.ThrowsAsync<SqliteException>(async () => await gate.EnterAsync(CancellationToken.None));
            Assert.Equal(5, busy.SqliteErrorCode); // SQLITE_BUSY, as SQLite's own busy timeout ends
            Assert.InRange(DateTimeOffset.UtcNow - started, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(30));
        }

        // Released: the next writer goes in at once.
        using (await gate.EnterAsync(CancellationToken.None))
        {
        }
    }
}
