using System.Text.RegularExpressions;
using ConnText.Server.Hosting;

namespace ConnText.Server.Auth;

/// <summary>
/// Settings under <c>ConnText:Auth</c>: token lifetimes of the OAuth2 / OpenID Connect server, the
/// external providers users may sign in with, and the extra clients this server is a provider for.
/// </summary>
internal sealed partial class AuthOptions
{
    public const string Section = "ConnText:Auth";

    /// <summary>
    /// The server's public base URL as clients reach it (e.g. <c>https://chat.example.com/</c>): the issuer of its
    /// tokens. Empty: the scheme and host of each request. Set it when several nodes serve one site, so that a
    /// token issued by one node is accepted by all.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>Access tokens are short-lived: a stolen one is useful only briefly.</summary>
    public int AccessTokenLifetimeMinutes { get; set; } = 10;

    /// <summary>Absolute lifetime of a login: refresh tokens rotate on every use but never extend it.</summary>
    public int RefreshTokenLifetimeDays { get; set; } = 30;

    /// <summary>
    /// How long a just-redeemed refresh token may be presented again (a client retrying a request
    /// whose answer it lost). After this, presenting it again revokes the whole login.
    /// </summary>
    public int RefreshTokenReuseLeewaySeconds { get; set; } = 3;

    /// <summary>"Sign in with ..." OpenID Connect providers, keyed by a short name used in URLs and stored with each linked account.</summary>
    public Dictionary<string, ExternalProviderOptions> ExternalProviders { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Confidential web clients (e.g. another ConnText server) that may sign their users in through this server.</summary>
    public Dictionary<string, RegisteredClientOptions> Clients { get; } = new(StringComparer.OrdinalIgnoreCase);

    public void Validate()
    {
        Require(string.IsNullOrEmpty(Issuer) || (IsHttpUri(Issuer, out var issuer) && string.IsNullOrEmpty(issuer.Query) && string.IsNullOrEmpty(issuer.Fragment)),
            nameof(Issuer), "an absolute http(s) URL without query, e.g. https://chat.example.com/");
        Require(AccessTokenLifetimeMinutes is >= 1 and <= 60, nameof(AccessTokenLifetimeMinutes), "between 1 and 60");
        Require(RefreshTokenLifetimeDays is >= 1 and <= 365, nameof(RefreshTokenLifetimeDays), "between 1 and 365");
        Require(RefreshTokenReuseLeewaySeconds is >= 0 and <= 10, nameof(RefreshTokenReuseLeewaySeconds), "between 0 and 10");

        foreach (var (name, provider) in ExternalProviders)
        {
            var key = $"{nameof(ExternalProviders)}:{name}";
            Require(NamePattern().IsMatch(name), key,
                "named with 1 to 32 letters, digits, '-' or '_' (the name appears in URLs and is stored with each linked account)");
            Require(IsHttpUri(provider.Authority, out var authority) && string.IsNullOrEmpty(authority.Query) && string.IsNullOrEmpty(authority.Fragment),
                $"{key}:{nameof(ExternalProviderOptions.Authority)}",
                "the provider's issuer URL, e.g. https://accounts.example.org/ (absolute http or https, no query or fragment)");
            Require(!string.IsNullOrWhiteSpace(provider.ClientId), $"{key}:{nameof(ExternalProviderOptions.ClientId)}",
                "the client id this server is registered with at the provider");
            Require(provider.DisplayName is null || (provider.DisplayName.Length <= 64 && !provider.DisplayName.Any(char.IsControl)),
                $"{key}:{nameof(ExternalProviderOptions.DisplayName)}", "at most 64 characters without control characters");
        }

        foreach (var (clientId, client) in Clients)
        {
            var key = $"{nameof(Clients)}:{clientId}";
            Require(NamePattern().IsMatch(clientId) && !string.Equals(clientId, DesktopClient.ClientId, StringComparison.OrdinalIgnoreCase), key,
                $"a client id of 1 to 32 letters, digits, '-' or '_', other than the reserved '{DesktopClient.ClientId}'");
            Require(client.ClientSecret is { Length: >= MinimumClientSecretLength }, $"{key}:{nameof(RegisteredClientOptions.ClientSecret)}",
                $"a random secret of at least {MinimumClientSecretLength} characters, shared with the client");
            Require(client.RedirectUris.Count > 0, $"{key}:{nameof(RegisteredClientOptions.RedirectUris)}",
                "a list of at least one redirect URI, e.g. https://other.example.org/account/external/callback/ourname");
            for (var i = 0; i < client.RedirectUris.Count; i++)
            {
                Require(IsHttpUri(client.RedirectUris[i], out var uri) && string.IsNullOrEmpty(uri.Fragment),
                    $"{key}:{nameof(RegisteredClientOptions.RedirectUris)}:{i}", "an absolute http or https URI without a fragment");
            }
        }
    }

    private const int MinimumClientSecretLength = 16;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex NamePattern();

    private static bool IsHttpUri(string? value, out Uri uri) =>
        Uri.TryCreate(value, UriKind.Absolute, out uri!)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && string.IsNullOrEmpty(uri.UserInfo);

    private static void Require(bool condition, string key, string expected)
    {
        if (!condition)
        {
            throw new StartupException($"{Section}:{key}", $"must be {expected}.");
        }
    }
}

/// <summary>One external OpenID Connect provider (<c>ConnText:Auth:ExternalProviders:{Name}</c>).</summary>
internal sealed class ExternalProviderOptions
{
    /// <summary>The button reads "Sign in with {DisplayName}"; defaults to the provider's name.</summary>
    public string? DisplayName { get; set; }

    /// <summary>The provider's issuer; its discovery document is read from <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    /// <summary>Empty for a public client (PKCE alone).</summary>
    public string? ClientSecret { get; set; }
}

/// <summary>One confidential client of this server (<c>ConnText:Auth:Clients:{ClientId}</c>).</summary>
internal sealed class RegisteredClientOptions
{
    public string? ClientSecret { get; set; }

    public string? DisplayName { get; set; }

    public IList<string> RedirectUris { get; } = new List<string>();
}
