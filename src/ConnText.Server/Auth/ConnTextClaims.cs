using System.Security.Claims;
using ConnText.Server.Accounts;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Auth;

/// <summary>The claims ConnText puts in tokens, and which token each one goes to.</summary>
internal static class ConnTextClaims
{
    /// <summary>The session (device login) the token belongs to.</summary>
    public const string SessionId = "sid";

    // Carried only inside the authorization code (no destination), read once when the code is redeemed.
    public const string PendingDeviceName = "ct_device_name";
    public const string PendingDevicePlatform = "ct_device_platform";

    /// <summary>Sets the user's current profile claims on an identity (replacing older values).</summary>
    public static void SetUserClaims(ClaimsIdentity identity, User user, IEnumerable<string> roles)
    {
        identity.SetClaim(Claims.Subject, user.Id.ToString())
            .SetClaim(Claims.PreferredUsername, user.UserName)
            .SetClaim(Claims.Name, user.DisplayName)
            .SetClaim(Claims.Email, user.Email)
            .SetClaims(Claims.Role, [.. roles]);
    }

    public static void SetDestinations(ClaimsIdentity identity) =>
        identity.SetDestinations(claim => claim.Type switch
        {
            Claims.Subject or SessionId => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Name or Claims.PreferredUsername when identity.HasScope(Scopes.Profile) =>
                [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Name or Claims.PreferredUsername => [Destinations.AccessToken],
            Claims.Email when identity.HasScope(Scopes.Email) => [Destinations.IdentityToken],
            Claims.Role => [Destinations.AccessToken],
            // Everything else (including the pending device details) stays inside codes and refresh tokens.
            _ => [],
        });
}
