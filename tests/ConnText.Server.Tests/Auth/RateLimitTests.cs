using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Auth;

public abstract class RateLimitTests(Provider provider)
{
    [Fact]
    public async Task Registration_PerIpLimit_Is429WithRetryAfter()
    {
        await using var server = await ServerInstance.StartAsync(provider,
            new Dictionary<string, string?> { ["ConnText:RateLimits:AuthPerIpPerMinute"] = "3" });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest($"user{i}", SignedInUsers.Password));
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        using var limited = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("user9", SignedInUsers.Password));
        await limited.AssertProblemAsync(429, ProblemTypes.RateLimited);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After tells when to come back");

        // Other endpoints are not limited by it.
        using var health = await server.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Login_PerAccountLimit_SlowsGuessing_WithoutAffectingOtherAccounts()
    {
        await using var server = await ServerInstance.StartAsync(provider,
            new Dictionary<string, string?> { ["ConnText:RateLimits:LoginPerAccountPerMinute"] = "3" });
        await SignedInUsers.RegisterAsync(server, "alice");
        await SignedInUsers.RegisterAsync(server, "bob");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var browser = new OAuthBrowser(server.Address);
            using var page = await browser.FollowAsync(OAuthBrowser.AuthorizeUrl(OAuthBrowser.LoopbackRedirect(50200), OAuthBrowser.NewVerifier()));
            using var submitted = await browser.SubmitLoginAsync(page, "alice", $"guess number {i}");
            statuses.Add(submitted.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);

        // The limit is per account: bob signs in normally from the same address.
        using var bob = await SignedInUsers.SignInAsync(server, "bob");
        using var ok = await bob.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}

public sealed class SqliteRateLimitTests() : RateLimitTests(Provider.Sqlite);

public sealed class PostgresRateLimitTests() : RateLimitTests(Provider.Postgres);
