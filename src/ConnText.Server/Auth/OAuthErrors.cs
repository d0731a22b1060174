using Microsoft.AspNetCore.Authentication;
using OpenIddict.Server.AspNetCore;

namespace ConnText.Server.Auth;

internal static class OAuthErrors
{
    /// <summary>An OAuth2 error response (RFC 6749 §5.2 shape) written by OpenIddict.</summary>
    public static IResult Forbid(string error, string description) =>
        Results.Forbid(
            new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
            }),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
