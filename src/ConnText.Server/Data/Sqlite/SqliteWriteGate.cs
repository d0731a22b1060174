using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace ConnText.Server.Data.Sqlite;

/// <summary>
/// This process's writers of one SQLite database queue here, asynchronously and in arrival order, before they
/// begin a write transaction (ADR 0002 addendum). SQLite has one write lock per database, and a writer that finds
/// it taken waits inside SQLite's busy handler, which sleeps on the calling thread (1, 2, 5 … 100 ms between
/// tries): under a chat's steady sends those sleeps held the thread pool's few threads and came back as the fan-out's
/// latency. Behind this gate a transaction's <c>BEGIN IMMEDIATE</c> finds the lock free unless another process (or
/// a write outside a transaction) holds it, and then the busy timeout still applies.
/// </summary>
#pragma warning disable CA1001 // lives as long as the process; a SemaphoreSlim whose wait handle is never asked for holds nothing to dispose
internal sealed class SqliteWriteGate
#pragma warning restore CA1001
{
    private static readonly ConcurrentDictionary<string, SqliteWriteGate> Gates = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim turn = new(1, 1);
    private readonly TimeSpan timeout;

    private SqliteWriteGate(string connectionString) =>
        timeout = TimeSpan.FromSeconds(new SqliteConnectionStringBuilder(connectionString).DefaultTimeout);

    /// <summary>The gate of the database this connection string opens (one per connection string in the process).</summary>
    public static SqliteWriteGate For(string connectionString) => Gates.GetOrAdd(connectionString, static cs => new SqliteWriteGate(cs));

    /// <summary>
    /// Waits for this process's other writers, as long as SQLite itself would (the connection's default timeout),
    /// and then fails as SQLite would: "database is locked". Dispose the result to let the next writer in.
    /// </summary>
    public async ValueTask<Turn> EnterAsync(CancellationToken cancellationToken)
    {
        if (!await turn.WaitAsync(timeout, cancellationToken))
        {
            throw new SqliteException($"database is locked (waited {timeout.TotalSeconds:0} s for this server's other writers)", 5);
        }

        return new Turn(turn);
    }

    internal readonly struct Turn(SemaphoreSlim turn) : IDisposable
    {
        public void Dispose() => turn.Release();
    }
}
