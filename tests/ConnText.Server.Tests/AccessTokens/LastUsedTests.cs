using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.AccessTokens;

/// <summary>A token's last use is still recorded, but written at most once per interval, however often it is used.</summary>
public abstract class LastUsedTests(Provider provider)
{
    [Fact]
    public async Task LastUsedAt_IsWrittenOnFirstUse_ThenAtMostOncePerInterval()
    {
        var clock = new AdjustableClock();
        await using var server = await ServerInstance.StartAsync(provider,
            new Dictionary<string, string?> { ["ConnText:AccessTokens:LastUsedWriteIntervalMinutes"] = "5" },
            services => services.AddSingleton<TimeProvider>(clock));
        using var bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        using var created = await bob.PostAsJsonAsync("/api/v1/me/tokens", new CreatePersonalAccessTokenRequest("bot", ["read"]));
        var token = (await created.Content.ReadFromJsonAsync<CreatedPersonalAccessTokenResponse>())!;
        using var script = OAuthBrowser.ApiClient(server.Address, token.Token);
        Assert.Null(await LastUsedAsync(bob, token.Details.Id));

        await UseAsync(script);
        var first = await LastUsedAsync(bob, token.Details.Id);
        Assert.NotNull(first);

        // A burst of use within the interval, at once and later on, writes nothing new.
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => UseAsync(script)));
        clock.Advance(TimeSpan.FromMinutes(4));
        await UseAsync(script);
        Assert.Equal(first, await LastUsedAsync(bob, token.Details.Id));

        // Once the interval has passed, the next use is recorded.
        clock.Advance(TimeSpan.FromMinutes(2));
        await UseAsync(script);
        var later = await LastUsedAsync(bob, token.Details.Id);
        Assert.True(later >= first!.Value.AddMinutes(6), $"last use {later} should have moved from {first} by the 6 minutes that passed");
    }

    private static async Task UseAsync(HttpClient script)
    {
        using var response = await script.GetAsync("/api/v1/users?q=b");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<DateTimeOffset?> LastUsedAsync(HttpClient owner, Guid tokenId) =>
        (await owner.GetFromJsonAsync<List<PersonalAccessTokenResponse>>("/api/v1/me/tokens"))!.Single(t => t.Id == tokenId).LastUsedAt;

    private sealed class AdjustableClock : TimeProvider
    {
        private long offsetTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref offsetTicks));
    }
}

public sealed class SqliteLastUsedTests() : LastUsedTests(Provider.Sqlite);

public sealed class PostgresLastUsedTests() : LastUsedTests(Provider.Postgres);
