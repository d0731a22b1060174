using System.Buffers.Binary;
using ConnText.Server.Data;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Accounts;

/// <summary>Raising the hashing cost upgrades each stored hash at that user's next successful login.</summary>
public sealed class PasswordHashUpgradeTests
{
    [Theory]
    [InlineData(Provider.Sqlite)]
    [InlineData(Provider.Postgres)]
    public async Task Login_AfterIterationIncrease_RehashesWithTheNewCount(Provider provider)
    {
        var database = await TestDatabase.CreateAsync(provider);
        var sqlite = Path.Combine(Path.GetTempPath(), $"conntext-rehash-{Guid.NewGuid():N}.db");
        var settings = provider == Provider.Sqlite
            ? new Dictionary<string, string?> { ["ConnectionStrings:Default"] = $"Data Source={sqlite}" }
            : [];
        try
        {
            await using (var before = await ServerInstance.StartAsync(provider, settings, database: database))
            {
                await SignedInUsers.RegisterAsync(before, "alice");
                Assert.Equal(210_000u, await IterationsAsync(before));
            }

            await using var after = await ServerInstance.StartAsync(provider,
                new Dictionary<string, string?>(settings) { ["ConnText:Accounts:PasswordHashIterations"] = "250000" }, database: database);
            Assert.Equal(210_000u, await IterationsAsync(after));
            using var api = await SignedInUsers.SignInAsync(after, "alice");
            Assert.Equal(250_000u, await IterationsAsync(after));
        }
        finally
        {
            await database.DisposeAsync();
            File.Delete(sqlite);
        }
    }

    private static async Task<uint> IterationsAsync(ServerInstance server)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        var hash = Convert.FromBase64String((await db.Users.SingleAsync(u => u.UserName == "alice")).PasswordHash!);
        return BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(5));
    }
}
