using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ConnText.Server.Data.Sqlite;

/// <summary>
/// Sets SQLite's own busy timeout on every connection EF opens, so a writer that finds the database's single write
/// lock taken waits inside SQLite (retrying after 1, 2, 5, 10 … 100 ms) for up to the connection's default timeout.
/// Without it, Microsoft.Data.Sqlite retries a busy statement itself after sleeping 150 ms each time: one chat
/// message that met a sign-in's write waited at least 150 ms (the login-storm benchmark's SQLite p99, docs/performance.md).
/// </summary>
internal sealed class SqliteBusyTimeout(int milliseconds) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            // sqlite3_busy_timeout: a setting of the open connection (no I/O, no lock); pooled connections keep it.
            var result = SQLitePCL.raw.sqlite3_busy_timeout(handle, milliseconds);
            SqliteException.ThrowExceptionForRC(result, handle);
        }
    }
}
