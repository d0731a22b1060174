using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Sessions;

/// <summary>
/// A desktop app registers its device key (a self-signed ECDSA P-256 certificate) for its session: accepted once,
/// idempotent, never replaced by another key, and anything that is not such a certificate is refused.
/// </summary>
public abstract class DeviceKeyTests(Provider provider) : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private ServerInstance server = null!;
    private OAuthBrowser browser = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider);
        browser = new OAuthBrowser(server.Address);
        using var created = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("alice", Password, "Alice"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    public async Task DisposeAsync()
    {
        browser.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task RegisterDeviceKey_SelfSignedP256_IsStoredWithTheSessionAndListed()
    {
        using var api = await SignInAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var certificate = SelfSigned(key);
        var expected = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

        var registered = await RegisterAsync(api, certificate);
        Assert.Equal(HttpStatusCode.OK, registered.Status);
        Assert.Equal(expected, registered.Body!.Fingerprint);

        // Again with the same key (every start of the app does this): fine.
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(api, certificate)).Status);
        var session = Assert.Single((await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!);
        Assert.Equal(expected, session.DeviceKeyFingerprint);
    }

    [Fact]
    public async Task RegisterDeviceKey_ADifferentKeyForTheSameSession_IsAConflict()
    {
        using var api = await SignInAsync();
        using var first = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var second = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(api, SelfSigned(first))).Status);

        using var response = await PutAsync(api, Convert.ToBase64String(SelfSigned(second)));
        await response.AssertProblemAsync(409, ProblemTypes.Conflict);
        var session = Assert.Single((await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first.ExportSubjectPublicKeyInfo())), session.DeviceKeyFingerprint);
    }

    [Fact]
    public async Task RegisterDeviceKey_AnotherSessionsKeyIsIndependent()
    {
        using var laptop = await SignInAsync();
        using var phone = await SignInAsync();
        using var laptopKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var phoneKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(laptop, SelfSigned(laptopKey))).Status);
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(phone, SelfSigned(phoneKey))).Status);

        var sessions = (await laptop.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!;
        Assert.Equal(2, sessions.Select(s => s.DeviceKeyFingerprint).Distinct().Count());
    }

    [Fact]
    public async Task RegisterDeviceKey_NotASelfSignedP256Certificate_IsRefusedAndNothingIsStored()
    {
        using var api = await SignInAsync();
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);
        using var device = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var tampered = SelfSigned(device);
        tampered[^5] ^= 0x01; // inside the signature

        var refused = new Dictionary<string, string?>
        {
            ["missing"] = null,
            ["not base64"] = "%%%",
            ["empty"] = "",
            ["not a certificate"] = Convert.ToBase64String("hello"u8.ToArray()),
            ["too large"] = Convert.ToBase64String(new byte[5000]),
            ["P-384"] = Convert.ToBase64String(SelfSigned(p384)),
            ["RSA"] = Convert.ToBase64String(new CertificateRequest("CN=rsa", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddYears(1)).RawData),
            ["signed by another key"] = Convert.ToBase64String(IssuedBy(device, issuer)),
            ["tampered signature"] = Convert.ToBase64String(tampered),
        };
        foreach (var (name, body) in refused)
        {
            using var response = await PutAsync(api, body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {response.StatusCode}");
            await response.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        var session = Assert.Single((await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!);
        Assert.Null(session.DeviceKeyFingerprint);
    }

    [Fact]
    public async Task RegisterDeviceKey_WithoutASignIn_IsUnauthorized()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var response = await PutAsync(server.Client, Convert.ToBase64String(SelfSigned(key)));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static byte[] SelfSigned(ECDsa key) =>
        new CertificateRequest("CN=ConnText device test", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1)).RawData;

    /// <summary>A certificate for <paramref name="device"/>'s key with the same subject as issuer, but signed by another key.</summary>
    private static byte[] IssuedBy(ECDsa device, ECDsa issuer)
    {
        var name = new X500DistinguishedName("CN=ConnText device test");
        var request = new CertificateRequest(name, device, HashAlgorithmName.SHA256);
        var generator = X509SignatureGenerator.CreateForECDsa(issuer);
        using var certificate = request.Create(name, generator, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), [1, 2, 3, 4]);
        return certificate.RawData;
    }

    private static Task<HttpResponseMessage> PutAsync(HttpClient api, string? certificate) =>
        api.PutAsJsonAsync("/api/v1/sessions/current/device-key", new DeviceKeyRequest(certificate));

    private static async Task<(HttpStatusCode Status, DeviceKeyResponse? Body)> RegisterAsync(HttpClient api, byte[] certificate)
    {
        using var response = await PutAsync(api, Convert.ToBase64String(certificate));
        return (response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<DeviceKeyResponse>() : null);
    }

    private async Task<HttpClient> SignInAsync()
    {
        var tokens = await browser.SignInAsync("alice", Password);
        return OAuthBrowser.ApiClient(server.Address, tokens.AccessToken);
    }
}

public sealed class SqliteDeviceKeyTests() : DeviceKeyTests(Provider.Sqlite);

public sealed class PostgresDeviceKeyTests() : DeviceKeyTests(Provider.Postgres);
