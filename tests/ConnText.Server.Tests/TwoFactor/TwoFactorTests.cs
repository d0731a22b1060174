using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.TwoFactor;

/// <summary>
/// Two-factor sign-in with an authenticator app, end to end on each database provider: the enrolment API, then the
/// desktop app's browser sign-in with its second step. Codes are computed here from the shared secret, as an
/// authenticator app would, with <see cref="Totp"/> (not the server's code).
/// </summary>
public abstract class TwoFactorTests(Provider provider) : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private ServerInstance server = null!;
    private OAuthBrowser browser = null!;
    private HttpClient api = null!;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider);
        browser = new OAuthBrowser(server.Address);
        using var created = await server.Client.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest("alice", Password));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tokens = await browser.SignInAsync("alice", Password);
        api = OAuthBrowser.ApiClient(server.Address, tokens.AccessToken);
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        browser.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Enable_WithTheAppsCode_TurnsOnTwoFactor_AndReturnsTenRecoveryCodes()
    {
        var status = await api.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor");
        Assert.Equal(new TwoFactorStatusResponse(false, 0), status);

        using var setupResponse = await api.PostAsync("/api/v1/me/two-factor/setup", null);
        Assert.Equal(HttpStatusCode.OK, setupResponse.StatusCode);
        var setup = (await setupResponse.Content.ReadFromJsonAsync<TwoFactorSetupResponse>())!;
        Assert.Matches("^[A-Z2-7]{32,}$", setup.SharedKey);
        Assert.Equal($"otpauth://totp/ConnText:alice?secret={setup.SharedKey}&issuer=ConnText&digits=6&period=30", setup.AuthenticatorUri);
        Assert.StartsWith("<svg", setup.QrCodeSvg.TrimStart(), StringComparison.Ordinal);
        Assert.Contains("</svg>", setup.QrCodeSvg, StringComparison.Ordinal);

        using (var wrong = await api.PostAsJsonAsync("/api/v1/me/two-factor/enable", new TwoFactorCodeRequest(Totp.WrongCode(setup.SharedKey))))
        {
            var problem = await wrong.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty("code", out _), problem.ToString());
        }

        Assert.False((await api.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor"))!.Enabled);

        // Apps show the code in two groups; typed like that, it is accepted.
        var shown = Totp.Now(setup.SharedKey);
        var codes = await EnableAsync(shown[..3] + " " + shown[3..]);
        Assert.Equal(10, codes.Count);
        Assert.Equal(10, codes.Distinct().Count());
        Assert.All(codes, code => Assert.Matches("^[A-Z0-9]{5}-[A-Z0-9]{5}$", code));
        Assert.Equal(new TwoFactorStatusResponse(true, 10), await api.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor"));
    }

    [Fact]
    public async Task SignIn_WithTwoFactor_NeedsTheAuthenticatorCode_ThenIssuesTokens()
    {
        var (secret, _) = await SetUpAndEnableAsync();
        var redirect = OAuthBrowser.LoopbackRedirect(50101);
        var verifier = OAuthBrowser.NewVerifier();
        using var fresh = new OAuthBrowser(server.Address);

        using var toApp = await fresh.SignInWithSecondFactorAsync("alice", Password, redirect, verifier, Totp.Now(secret));
        var code = await OAuthBrowser.CodeFromAppRedirectAsync(toApp, redirect);
        var (status, body) = await fresh.RedeemAsync(code, redirect, verifier);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        using var newApi = OAuthBrowser.ApiClient(server.Address, TokenSet.From(body).AccessToken);
        Assert.True((await newApi.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor"))!.Enabled);

        // The browser is now signed in to the server: the next app sign-in goes straight back, as without two-factor.
        using var again = await fresh.FollowAsync(OAuthBrowser.AuthorizeUrl(redirect, OAuthBrowser.NewVerifier()));
        Assert.NotNull(again.Headers.Location);
        Assert.StartsWith(redirect, again.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WithAWrongCode_Is401_AndNeverReachesTheApp()
    {
        var (secret, _) = await SetUpAndEnableAsync();
        var redirect = OAuthBrowser.LoopbackRedirect(50102);
        using var fresh = new OAuthBrowser(server.Address);

        using var refused = await fresh.SignInWithSecondFactorAsync("alice", Password, redirect, OAuthBrowser.NewVerifier(), Totp.WrongCode(secret));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Null(refused.Headers.Location);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Equal("That code is not right. Enter the 6-digit code your authenticator app shows now.", AlertOf(html));
        Assert.Contains("autocomplete=\"one-time-code\"", html, StringComparison.Ordinal);

        // Neither the password nor the wrong code signed the browser in: the app sign-in shows the login page again.
        using var again = await fresh.FollowAsync(OAuthBrowser.AuthorizeUrl(redirect, OAuthBrowser.NewVerifier()));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Null(again.Headers.Location);
        Assert.Contains("action=\"/account/login\"", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondStep_WithoutThePassword_SendsBackToTheLogin()
    {
        await SetUpAndEnableAsync();
        using var fresh = new OAuthBrowser(server.Address);

        using var page = await fresh.Browser.GetAsync("/account/login/two-factor?ReturnUrl=%2Fsomewhere");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/account/login?ReturnUrl=%2Fsomewhere", page.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task RecoveryCode_SignsInOnce_NotTwice()
    {
        var (_, recoveryCodes) = await SetUpAndEnableAsync();
        var recoveryCode = recoveryCodes[3];
        var redirect = OAuthBrowser.LoopbackRedirect(50103);

        using (var first = new OAuthBrowser(server.Address))
        {
            var verifier = OAuthBrowser.NewVerifier();
            // Typed in lower case: recovery codes are shown in capitals, users type what they type.
            using var toApp = await first.SignInWithSecondFactorAsync("alice", Password, redirect, verifier, code: null, recoveryCode.ToLowerInvariant());
            var code = await OAuthBrowser.CodeFromAppRedirectAsync(toApp, redirect);
            var (status, body) = await first.RedeemAsync(code, redirect, verifier);
            Assert.True(status == HttpStatusCode.OK, body.ToString());
        }

        Assert.Equal(new TwoFactorStatusResponse(true, 9), await api.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor"));

        using var second = new OAuthBrowser(server.Address);
        using var refused = await second.SignInWithSecondFactorAsync("alice", Password, redirect, OAuthBrowser.NewVerifier(), code: null, recoveryCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Null(refused.Headers.Location);
        Assert.Equal("That recovery code is not valid, or it has been used already.", AlertOf(await refused.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task SecondStep_TooManyWrongCodes_LockTheAccountForAWhile()
    {
        var (secret, _) = await SetUpAndEnableAsync();
        using var fresh = new OAuthBrowser(server.Address);
        var page = await fresh.SignInUntilSecondStepAsync("alice", Password, OAuthBrowser.LoopbackRedirect(50104), OAuthBrowser.NewVerifier());

        // Identity's lockout: the 10th failure pauses the account; wrong recovery codes count like wrong authenticator codes.
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            var answer = attempt % 2 == 0
                ? await fresh.SubmitTwoFactorAsync(page, code: null, recoveryCode: "AAAAA-AAAAA")
                : await fresh.SubmitTwoFactorAsync(page, Totp.WrongCode(secret));
            page.Dispose();
            page = answer;
            Assert.Equal(attempt < 10 ? HttpStatusCode.Unauthorized : HttpStatusCode.TooManyRequests, page.StatusCode);
        }

        // Locked: now even the right code and a valid recovery code are refused.
        using (var right = await fresh.SubmitTwoFactorAsync(page, Totp.Now(secret)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
            Assert.Equal("Too many failed attempts. Wait a few minutes and try again.", AlertOf(await right.Content.ReadAsStringAsync()));
        }

        page.Dispose();
    }

    [Fact]
    public async Task Disable_NeedsAValidCode_ThenThePasswordAloneSignsIn()
    {
        var (secret, _) = await SetUpAndEnableAsync();

        using (var missing = await api.PostAsJsonAsync("/api/v1/me/two-factor/disable", new TwoFactorCodeRequest(null)))
        {
            await missing.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        using (var wrong = await api.PostAsJsonAsync("/api/v1/me/two-factor/disable", new TwoFactorCodeRequest(Totp.WrongCode(secret))))
        {
            await wrong.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        Assert.True((await api.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor"))!.Enabled);

        using (var disabled = await api.PostAsJsonAsync("/api/v1/me/two-factor/disable", new TwoFactorCodeRequest(Totp.Now(secret))))
        {
            Assert.Equal(HttpStatusCode.NoContent, disabled.StatusCode);
        }

        Assert.Equal(new TwoFactorStatusResponse(false, 0), await api.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor"));
        using (var again = await api.PostAsJsonAsync("/api/v1/me/two-factor/disable", new TwoFactorCodeRequest(Totp.Now(secret))))
        {
            await again.AssertProblemAsync(409, ProblemTypes.Conflict);
        }

        // The secret is gone: enabling needs a new setup.
        using (var enable = await api.PostAsJsonAsync("/api/v1/me/two-factor/enable", new TwoFactorCodeRequest(Totp.Now(secret))))
        {
            await enable.AssertProblemAsync(409, ProblemTypes.Conflict);
        }

        using var fresh = new OAuthBrowser(server.Address);
        await fresh.SignInAsync("alice", Password);
    }

    [Fact]
    public async Task Disable_TooManyWrongCodes_Is429WithRetryAfter()
    {
        // A stolen access token must not be a way to guess codes without limit: the account's lockout applies.
        var (secret, _) = await SetUpAndEnableAsync();
        for (var attempt = 1; attempt < 10; attempt++)
        {
            using var wrong = await api.PostAsJsonAsync("/api/v1/me/two-factor/disable", new TwoFactorCodeRequest(Totp.WrongCode(secret)));
            await wrong.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        using (var tenth = await api.PostAsJsonAsync("/api/v1/me/two-factor/disable", new TwoFactorCodeRequest(Totp.WrongCode(secret))))
        {
            await tenth.AssertProblemAsync(429, ProblemTypes.RateLimited);
            Assert.InRange(tenth.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        }

        using (var right = await api.PostAsJsonAsync("/api/v1/me/two-factor/disable", new TwoFactorCodeRequest(Totp.Now(secret))))
        {
            await right.AssertProblemAsync(429, ProblemTypes.RateLimited);
        }

        Assert.True((await api.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor"))!.Enabled);
    }

    [Fact]
    public async Task Disable_AcceptsARecoveryCode()
    {
        var (_, recoveryCodes) = await SetUpAndEnableAsync();

        using var disabled = await api.PostAsJsonAsync("/api/v1/me/two-factor/disable", new TwoFactorCodeRequest(recoveryCodes[0]));
        Assert.Equal(HttpStatusCode.NoContent, disabled.StatusCode);
        Assert.False((await api.GetFromJsonAsync<TwoFactorStatusResponse>("/api/v1/me/two-factor"))!.Enabled);
    }

    [Fact]
    public async Task RenewRecoveryCodes_NeedsACode_AndTheOldCodesStopWorking()
    {
        var (secret, old) = await SetUpAndEnableAsync();

        using (var wrong = await api.PostAsJsonAsync("/api/v1/me/two-factor/recovery-codes", new TwoFactorCodeRequest(Totp.WrongCode(secret))))
        {
            await wrong.AssertProblemAsync(400, ProblemTypes.Validation);
        }

        var renewed = await RenewRecoveryCodesAsync(Totp.Now(secret));
        Assert.Equal(10, renewed.Count);
        Assert.Empty(renewed.Intersect(old));

        using var fresh = new OAuthBrowser(server.Address);
        using var refused = await fresh.SignInWithSecondFactorAsync(
            "alice", Password, OAuthBrowser.LoopbackRedirect(50105), OAuthBrowser.NewVerifier(), code: null, old[0]);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Setup_WhileTwoFactorIsOn_IsRefused()
    {
        // Otherwise an access token alone could replace the second factor, without ever knowing a code.
        var (secret, _) = await SetUpAndEnableAsync();

        using var setup = await api.PostAsync("/api/v1/me/two-factor/setup", null);
        await setup.AssertProblemAsync(409, ProblemTypes.Conflict);

        using var fresh = new OAuthBrowser(server.Address);
        var redirect = OAuthBrowser.LoopbackRedirect(50106);
        using var toApp = await fresh.SignInWithSecondFactorAsync("alice", Password, redirect, OAuthBrowser.NewVerifier(), Totp.Now(secret));
        await OAuthBrowser.CodeFromAppRedirectAsync(toApp, redirect);
    }

    [Fact]
    public async Task Api_WithoutAToken_Is401Problem()
    {
        using var anonymous = new HttpClient { BaseAddress = server.Address };
        using (var status = await anonymous.GetAsync("/api/v1/me/two-factor"))
        {
            await status.AssertProblemAsync(401, ProblemTypes.Unauthorized);
        }

        foreach (var path in new[] { "setup", "enable", "disable", "recovery-codes" })
        {
            using var response = await anonymous.PostAsJsonAsync($"/api/v1/me/two-factor/{path}", new TwoFactorCodeRequest("123456"));
            await response.AssertProblemAsync(401, ProblemTypes.Unauthorized);
        }
    }

    /// <summary>Sets up and turns on two-factor sign-in for alice: the shared secret (the app's copy) and the recovery codes.</summary>
    private async Task<(string Secret, IReadOnlyList<string> RecoveryCodes)> SetUpAndEnableAsync()
    {
        using var response = await api.PostAsync("/api/v1/me/two-factor/setup", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var setup = (await response.Content.ReadFromJsonAsync<TwoFactorSetupResponse>())!;
        return (setup.SharedKey, await EnableAsync(Totp.Now(setup.SharedKey)));
    }

    private async Task<IReadOnlyList<string>> EnableAsync(string code)
    {
        using var response = await api.PostAsJsonAsync("/api/v1/me/two-factor/enable", new TwoFactorCodeRequest(code));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<TwoFactorRecoveryCodesResponse>())!.RecoveryCodes;
    }

    private async Task<IReadOnlyList<string>> RenewRecoveryCodesAsync(string code)
    {
        using var response = await api.PostAsJsonAsync("/api/v1/me/two-factor/recovery-codes", new TwoFactorCodeRequest(code));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<TwoFactorRecoveryCodesResponse>())!.RecoveryCodes;
    }

    private static string AlertOf(string html) => WebUtility.HtmlDecode(Regex.Match(html, "role=\"alert\">([^<]*)<").Groups[1].Value);
}

public sealed class SqliteTwoFactorTests() : TwoFactorTests(Provider.Sqlite);

public sealed class PostgresTwoFactorTests() : TwoFactorTests(Provider.Postgres);

/// <summary>RFC 6238 TOTP as authenticator apps compute it: HMAC-SHA1 over the 30-second step count, 6 digits.</summary>
public static class Totp
{
    public static string Now(string base32Secret) => At(base32Secret, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() / 30);

    public static string At(string base32Secret, long step) => Compute(Base32Decode(base32Secret), step, digits: 6);

    /// <summary>A well-formed code that no clock drift the server allows (±2 steps, plus one for a step boundary) makes valid.</summary>
    public static string WrongCode(string base32Secret)
    {
        var step = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() / 30;
        var valid = Enumerable.Range(-3, 7).Select(offset => At(base32Secret, step + offset)).ToHashSet();
        var candidate = int.Parse(valid.First(), CultureInfo.InvariantCulture);
        string wrong;
        do
        {
            candidate = (candidate + 1) % 1_000_000;
            wrong = candidate.ToString("D6", CultureInfo.InvariantCulture);
        }
        while (valid.Contains(wrong));

        return wrong;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350",
        Justification = "RFC 6238's HMAC-SHA1 is what authenticator apps and the server compute; HMAC-SHA1 is not broken by SHA-1 collisions.")]
    public static string Compute(byte[] key, long step, int digits)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        var hash = HMACSHA1.HashData(key, counter);
        // RFC 4226 §5.3 dynamic truncation.
        var offset = hash[^1] & 0x0f;
        var binary = ((hash[offset] & 0x7f) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        return (binary % (int)Math.Pow(10, digits)).ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    public static byte[] Base32Decode(string base32)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in base32.TrimEnd('=').ToUpperInvariant())
        {
            var value = Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (value < 0)
            {
                throw new FormatException($"'{c}' is not base32.");
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        return [.. bytes];
    }
}

public sealed class TotpTests
{
    [Theory]
    // RFC 6238 Appendix B, SHA-1 (8 digits), secret "12345678901234567890".
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(2000000000L, "69279037")]
    public void Compute_MatchesTheRfc6238TestVectors(long unixTime, string expected)
    {
        Assert.Equal(expected, Totp.Compute(Encoding.ASCII.GetBytes("12345678901234567890"), unixTime / 30, digits: 8));
    }

    [Fact]
    public void Base32Decode_MatchesRfc4648()
    {
        Assert.Equal("foobar", Encoding.ASCII.GetString(Totp.Base32Decode("MZXW6YTBOI======")));
    }
}
