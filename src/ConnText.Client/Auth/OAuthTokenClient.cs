using System.Net.Http.Json;
using System.Text.Json;

namespace ConnText.Client.Auth;

/// <summary>The server's token endpoint for the desktop client: code redemption (with PKCE) and refresh with rotation.</summary>
public sealed class OAuthTokenClient
{
    /// <summary>The OAuth client id the server registers for the desktop app (public, loopback redirect on any port).</summary>
    public const string ClientId = "conntext-desktop";

    /// <summary>What the desktop asks for: the API, a refresh token, and the profile.</summary>
    public const string Scopes = "openid profile offline_access api";

    private readonly HttpClient http;
    private readonly Uri server;
    private readonly TimeProvider time;

    /// <summary>Creates a client of <paramref name="server"/>'s token endpoint over <paramref name="http"/>.</summary>
    public OAuthTokenClient(HttpClient http, Uri server, TimeProvider time)
    {
        this.http = http;
        this.server = server;
        this.time = time;
    }

    /// <summary>Redeems an authorization code with its PKCE verifier.</summary>
    public Task<TokenSet> RedeemAsync(string code, string redirectUri, string verifier, CancellationToken cancellationToken) =>
        RequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = ClientId,
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["code_verifier"] = verifier,
        }, previousRefreshToken: null, cancellationToken);

    /// <summary>Trades a refresh token for new tokens; the server rotates it, so the old one must not be used again.</summary>
    public Task<TokenSet> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        RequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = ClientId,
            ["refresh_token"] = refreshToken,
        }, refreshToken, cancellationToken);

    private async Task<TokenSet> RequestAsync(Dictionary<string, string> parameters, string? previousRefreshToken, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent(parameters);
        using var response = await http.PostAsync(new Uri(server, "/connect/token"), content, cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var error = body.TryGetProperty("error", out var e) ? e.GetString() : null;
            throw new SignInRequiredException($"The server refused the token request ({(int)response.StatusCode} {error}).");
        }

        var expiresIn = body.TryGetProperty("expires_in", out var seconds) ? seconds.GetInt32() : 300;
        return new TokenSet(
            body.GetProperty("access_token").GetString()!,
            body.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString() : previousRefreshToken,
            time.GetUtcNow().AddSeconds(expiresIn));
    }
}

/// <summary>The server no longer accepts this account's tokens: the user has to sign in again.</summary>
public sealed class SignInRequiredException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SignInRequiredException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SignInRequiredException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SignInRequiredException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
