using ConnText.Server.Data;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ConnText.Server.Tests.Data;

/// <summary>How the server's PostgreSQL connections are set up.</summary>
public sealed class PostgresConnectionTests
{
    [Fact]
    public async Task RepeatedStatements_ArePreparedOnTheConnection()
    {
        await using var server = await ServerInstance.StartAsync(Provider.Postgres);
        using var scope = server.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        await db.Database.OpenConnectionAsync();
        var userId = Guid.NewGuid();
        for (var i = 0; i < 6; i++) // Npgsql prepares a statement after its fifth use on a connection
        {
            await db.Users.AsNoTracking().Where(u => u.Id == userId).ToListAsync();
        }

        // PostgreSQL's own view of the session: the query is a server-side prepared statement now, parsed and planned
        // once (it was parsed and planned on every execution before).
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM users AS u%' AND statement LIKE '%WHERE u.\"Id\" = $1%'";
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("Host=db;Username=conntext", DataServices.AutoPreparedStatements)]
    [InlineData("Host=db;Username=conntext;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;Username=conntext;maxautoprepare=7", 7)]
    public void MaxAutoPrepare_DefaultsOn_ButTheConnectionStringDecides(string configured, int expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(DataServices.PostgresConnectionString(configured)).MaxAutoPrepare);

    [Theory]
    [InlineData("Host=db;Username=conntext", true)]
    [InlineData("Host=db;Username=conntext;No Reset On Close=false", false)]
    [InlineData("Host=db;Username=conntext;noresetonclose=false", false)]
    public void NoResetOnClose_DefaultsOn_ButTheConnectionStringDecides(string configured, bool expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(DataServices.PostgresConnectionString(configured)).NoResetOnClose);

    [Theory]
    [InlineData("Host=db;Username=conntext", null)]
    [InlineData("Host=db;Username=conntext;Maximum Pool Size=50", 50)]
    [InlineData("Host=db;Username=conntext;maxpoolsize=9", 9)]
    public void MaxPoolSize_FollowsTheCores_ButTheConnectionStringDecides(string configured, int? expected)
    {
        Assert.Equal((2 * Environment.ProcessorCount) + 2, DataServices.DefaultMaxPoolSize);
        Assert.Equal(expected ?? DataServices.DefaultMaxPoolSize,
            new NpgsqlConnectionStringBuilder(DataServices.PostgresConnectionString(configured)).MaxPoolSize);
    }
}
