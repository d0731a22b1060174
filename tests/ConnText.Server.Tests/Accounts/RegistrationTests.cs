using System.Net;
using System.Net.Http.Json;
using System.Buffers.Binary;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Data;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Accounts;

public abstract class RegistrationTests(Provider provider) : IAsyncLifetime
{
    private const string GoodPassword = "correct horse battery staple";
    private ServerInstance server = null!;

    public async Task InitializeAsync() => server = await ServerInstance.StartAsync(provider);

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Register_FirstUserIsAdmin_SecondIsNot()
    {
        var first = await RegisterAsync("alice");
        var second = await RegisterAsync("bob");

        Assert.Equal(["admin"], first.Roles);
        Assert.Empty(second.Roles);
        Assert.Equal("alice", first.DisplayName);
    }

    [Fact]
    public async Task Register_UsernameTakenIgnoringCase_IsConflict()
    {
        await RegisterAsync("Alice");
        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts", new { username = "aLICE", password = GoodPassword });
        await response.AssertProblemAsync(409, ProblemTypes.Conflict);
    }

    [Fact]
    public async Task Register_SameNameConcurrently_CreatesExactlyOneAccount()
    {
        var attempts = Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts", new { username = "race", password = GoodPassword });
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(attempts);

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.All(statuses.Where(s => s != HttpStatusCode.Created), s => Assert.Equal(HttpStatusCode.Conflict, s));
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        Assert.Equal(1, await db.Users.CountAsync(u => u.NormalizedUserName == "RACE"));
    }

    [Theory]
    [InlineData("short7c", "at least 8")]
    [InlineData("password123", "commonly used")]
    [InlineData("QWERTYUIOP", "commonly used")]
    [InlineData("erin-the-user", "cannot be the username")]
    public async Task Register_PasswordPolicy_RejectsWithReason(string password, string reason)
    {
        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts", new { username = "erin-the-user", password });
        var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
        var messages = problem.GetProperty("errors").GetProperty("password").EnumerateArray().Select(m => m.GetString()).ToList();
        Assert.Contains(messages, m => m!.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Register_LongPassphraseWithoutCompositionRules_IsAccepted()
    {
        var passphrase = string.Concat(Enumerable.Repeat("all lower case words ", 7))[..128];
        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts", new { username = "frank", password = passphrase });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Register_StoresPbkdf2Sha512HashWithAtLeast210kIterations()
    {
        var account = await RegisterAsync("grace");
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        var hash = Convert.FromBase64String((await db.Users.SingleAsync(u => u.Id == account.Id)).PasswordHash!);

        // Identity v3 format: 0x01 | PRF (uint32 BE; 2 = HMAC-SHA512) | iterations (uint32 BE) | salt length | salt | subkey.
        Assert.Equal(0x01, hash[0]);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(1)));
        Assert.True(BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(5)) >= 210_000);
        Assert.DoesNotContain(GoodPassword, System.Text.Encoding.UTF8.GetString(hash), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_NonAsciiAndControlCharactersInDisplayName_AreHandled()
    {
        var ok = await RegisterAsync("heidi", displayName: "Heidi Müller 🎧");
        Assert.Equal("Heidi Müller 🎧", ok.DisplayName);

        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts",
            new { username = "ivan", password = GoodPassword, displayName = "Ivan\u0000\u001b[31m" });
        await response.AssertProblemAsync(400, ProblemTypes.Validation);
    }

    private async Task<AccountResponse> RegisterAsync(string username, string? displayName = null)
    {
        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts",
            new RegisterAccountRequest(username, GoodPassword, displayName));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<AccountResponse>())!;
    }
}

public sealed class SqliteRegistrationTests() : RegistrationTests(Provider.Sqlite);

public sealed class PostgresRegistrationTests() : RegistrationTests(Provider.Postgres);

public sealed class RegistrationModeTests
{
    [Fact]
    public async Task Register_WhenClosed_IsRegistrationClosedProblem()
    {
        const string mode = "Closed";
        const string detail = "does not accept";
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite,
            new Dictionary<string, string?> { ["ConnText:Accounts:RegistrationMode"] = mode });
        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts",
            new { username = "judy", password = "correct horse battery staple" });
        var problem = await response.AssertProblemAsync(403, ProblemTypes.RegistrationClosed);
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var info = await server.Client.GetFromJsonAsync<Contracts.Server.ServerInfoResponse>("/api/v1/server");
        Assert.Equal(mode.ToLowerInvariant(), info!.RegistrationMode);
    }

    [Fact]
    public async Task RegisterPage_OpenRegistration_FormWithoutAnInviteField_CreatesTheAccountAndSignsIn()
    {
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite);
        using var browser = new OAuthBrowser(server.Address);
        using var page = await browser.FollowAsync("/account/register?ReturnUrl=%2Fdocs");
        Assert.DoesNotContain("name=\"InviteCode\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Exactly the fields the page shows, as a browser posts them: no invite code outside invite mode.
        using var submitted = await browser.SubmitFormAsync(page, "/account/register", new Dictionary<string, string>
        {
            ["Username"] = "judy",
            ["DisplayName"] = "",
            ["Password"] = "correct horse battery staple",
        });

        Assert.True(submitted.StatusCode == HttpStatusCode.Redirect, await submitted.Content.ReadAsStringAsync());
        Assert.Equal("/docs", submitted.Headers.Location!.OriginalString);
        Assert.Contains(submitted.Headers.GetValues("Set-Cookie"), cookie => cookie.StartsWith("conntext.login=", StringComparison.Ordinal));
    }
}
