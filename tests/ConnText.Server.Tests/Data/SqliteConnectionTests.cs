using ConnText.Server.Data;
using ConnText.Server.Tests.Infrastructure;
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
}
