using System.Security.Claims;
using System.Security.Cryptography;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Auth;

internal static class CallerExtensions
{
    /// <summary>The authenticated caller's user id (the <c>sub</c> claim every ConnText token carries).</summary>
    public static Guid UserId(this ClaimsPrincipal principal) => Guid.Parse(principal.GetClaim(Claims.Subject)!);

    /// <summary>The session of the calling token; null for personal access tokens.</summary>
    public static Guid? SessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.GetClaim(ConnTextClaims.SessionId), out var sid) ? sid : null;
}

internal static class Secrets
{
    /// <summary>A new secret with 256 bits of entropy, URL-safe, with a recognisable prefix (so scanners can find leaks).</summary>
    public static string New(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
