using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Server;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Health;

public abstract class HealthTests(Provider provider) : IAsyncLifetime
{
    protected ServerInstance Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerInstance.StartAsync(provider);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    [Fact]
    public async Task Live_IsHealthy()
    {
        var health = await Server.Client.GetFromJsonAsync<HealthResponse>("/health/live");
        Assert.Equal("Healthy", health!.Status);
    }

    [Fact]
    public async Task Ready_ChecksTheDatabase()
    {
        using var response = await Server.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<HealthResponse>();
        Assert.Equal("Healthy", health!.Checks["database"]);
    }
}

public sealed class SqliteHealthTests() : HealthTests(Provider.Sqlite);

public sealed class PostgresHealthTests() : HealthTests(Provider.Postgres)
{
    [Fact]
    public async Task Ready_WhenTheDatabaseIsGone_Is503NamingTheCheck_WhileLiveStaysUp()
    {
        await Server.Database.DropAsync();

        using var ready = await Server.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var health = await ready.Content.ReadFromJsonAsync<HealthResponse>();
        Assert.Equal("Unhealthy", health!.Checks["database"]);

        using var live = await Server.Client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
