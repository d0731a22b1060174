namespace ConnText.Server.Auth;

/// <summary>Settings under <c>ConnText:Auth</c>: token lifetimes of the OAuth2 / OpenID Connect server.</summary>
internal sealed class AuthOptions
{
    public const string Section = "ConnText:Auth";

    /// <summary>Access tokens are short-lived: a stolen one is useful only briefly.</summary>
    public int AccessTokenLifetimeMinutes { get; set; } = 10;

    /// <summary>Absolute lifetime of a login: refresh tokens rotate on every use but never extend it.</summary>
    public int RefreshTokenLifetimeDays { get; set; } = 30;

    /// <summary>
    /// How long a just-redeemed refresh token may be presented again (a client retrying a request
    /// whose answer it lost). After this, presenting it again revokes the whole login.
    /// </summary>
    public int RefreshTokenReuseLeewaySeconds { get; set; } = 3;

    public void Validate()
    {
        Require(AccessTokenLifetimeMinutes is >= 1 and <= 60, nameof(AccessTokenLifetimeMinutes), "between 1 and 60");
        Require(RefreshTokenLifetimeDays is >= 1 and <= 365, nameof(RefreshTokenLifetimeDays), "between 1 and 365");
        Require(RefreshTokenReuseLeewaySeconds is >= 0 and <= 10, nameof(RefreshTokenReuseLeewaySeconds), "between 0 and 10");
    }

    private static void Require(bool condition, string key, string expected)
    {
        if (!condition)
        {
            throw new Hosting.StartupException($"{Section}:{key}", $"must be {expected}.");
        }
    }
}
