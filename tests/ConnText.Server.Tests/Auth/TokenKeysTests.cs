using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ConnText.Contracts.Accounts;
using ConnText.Server.Auth;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace ConnText.Server.Tests.Auth;

/// <summary>
/// Tokens are signed with ES256 and encrypted with AES key wrap (ADR 0021); an installation upgraded from the RSA keys
/// of earlier versions keeps accepting the tokens those keys protected.
/// </summary>
public sealed class TokenKeysTests : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("conntext-keys-upgrade-").FullName;
    private TestDatabase database = null!;

    public async Task InitializeAsync() => database = await TestDatabase.CreateAsync(Provider.Sqlite);

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task NewInstallation_SignsWithEs256_EncryptsWithA256KW_AndPublishesOnlyTheEcKey()
    {
        await using var server = await StartAsync(earlierVersion: false);
        using var browser = new OAuthBrowser(server.Address);
        await RegisterAsync(server);
        var tokens = await browser.SignInAsync("alice", Password);

        Assert.Equal("ES256", Header(tokens.IdToken!).GetProperty("alg").GetString());
        Assert.Equal("A256KW", Header(tokens.AccessToken).GetProperty("alg").GetString());
        Assert.Equal("A256KW", Header(tokens.RefreshToken).GetProperty("alg").GetString());
        Assert.Equal(["EC"], await KeyTypesAsync(server));
        Assert.False(File.Exists(Path.Combine(dataDirectory, "keys", "token-signing.pem"))); // no RSA key is made any more
    }

    [Fact]
    public async Task Upgrade_FromRsaKeys_TheirTokensStillWork_AndNewOnesUseTheNewKeys()
    {
        // An installation of an earlier version: its RSA keys in the data directory, its tokens protected with them.
        SigningKeys.LoadOrCreate(dataDirectory, "token-signing");
        SigningKeys.LoadOrCreate(dataDirectory, "token-encryption");
        TokenSet old;
        await using (var earlier = await StartAsync(earlierVersion: true))
        {
            using var browser = new OAuthBrowser(earlier.Address);
            await RegisterAsync(earlier);
            old = await browser.SignInAsync("alice", Password);
        }

        Assert.Equal("RS256", Header(old.IdToken!).GetProperty("alg").GetString());
        Assert.Equal("RSA-OAEP", Header(old.AccessToken).GetProperty("alg").GetString());

        await using var upgraded = await StartAsync(earlierVersion: false);
        using (var api = OAuthBrowser.ApiClient(upgraded.Address, old.AccessToken))
        {
            Assert.Single((await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!);
        }

        using var upgradedBrowser = new OAuthBrowser(upgraded.Address);
        var (status, body) = await upgradedBrowser.RefreshAsync(old.RefreshToken);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        var renewed = TokenSet.From(body);
        Assert.Equal("ES256", Header(renewed.IdToken!).GetProperty("alg").GetString());
        Assert.Equal("A256KW", Header(renewed.AccessToken).GetProperty("alg").GetString());
        using (var api = OAuthBrowser.ApiClient(upgraded.Address, renewed.AccessToken))
        {
            Assert.Single((await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!);
        }

        Assert.Equal(["EC", "RSA"], await KeyTypesAsync(upgraded)); // the old key still verifies what it signed
    }

    private Task<ServerInstance> StartAsync(bool earlierVersion) => ServerInstance.StartAsync(
        Provider.Sqlite,
        // One issuer across the restart, as a deployment has (the test servers' ports differ).
        new Dictionary<string, string?> { ["ConnText:DataDirectory"] = dataDirectory, ["ConnText:Auth:Issuer"] = "https://chat.example.test/" },
        services =>
        {
            if (earlierVersion)
            {
                // What earlier versions had: the RSA keys only.
                services.PostConfigure<OpenIddictServerOptions>(o =>
                {
                    o.SigningCredentials.RemoveAll(c => c.Key is not RsaSecurityKey);
                    o.EncryptionCredentials.RemoveAll(c => c.Key is not RsaSecurityKey);
                });
            }
        },
        database);

    private static async Task RegisterAsync(ServerInstance server)
    {
        using var created = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("alice", Password, "Alice A."));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private static async Task<List<string>> KeyTypesAsync(ServerInstance server)
    {
        var jwks = await server.Client.GetFromJsonAsync<JsonElement>("/.well-known/jwks");
        return [.. jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kty").GetString()!).Order(StringComparer.Ordinal)];
    }

    private static JsonElement Header(string token) =>
        JsonSerializer.Deserialize<JsonElement>(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(token.Split('.')[0])));
}
