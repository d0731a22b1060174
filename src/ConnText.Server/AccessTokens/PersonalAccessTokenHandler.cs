using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using ConnText.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.AccessTokens;

/// <summary>Authenticates <c>Authorization: Bearer ctp_…</c> with a personal access token, checked on every request.</summary>
internal sealed class PersonalAccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ConnTextDbContext db,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PersonalAccessToken";
    public const string TokenPrefix = "ctp_";

    /// <summary>The id of the personal access token a request was made with.</summary>
    public const string TokenIdClaim = "pat_id";

    public static bool IsPersonalAccessToken(string? authorization) =>
        authorization is not null
        && authorization.StartsWith("Bearer " + TokenPrefix, StringComparison.Ordinal);

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (!IsPersonalAccessToken(header))
        {
            return AuthenticateResult.NoResult();
        }

        var token = header!["Bearer ".Length..].Trim();
        if (token.Length > 200)
        {
            return AuthenticateResult.Fail("Malformed token.");
        }

        var now = time.GetUtcNow();
        var hash = Hash(token);
        var entry = await db.PersonalAccessTokens.Include(t => t.User)
            .FirstOrDefaultAsync(t => t.SecretHash == hash, Context.RequestAborted);
        if (entry is null || entry.RevokedAt is not null || entry.ExpiresAt <= now || entry.User is null || entry.User.IsDisabled)
        {
            return AuthenticateResult.Fail("The token is unknown, revoked or expired.");
        }

        // Record use at most once a minute: a script calling in a loop must not turn every read into a write.
        if (entry.LastUsedAt is null || now - entry.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            entry.LastUsedAt = now;
            await db.SaveChangesAsync(Context.RequestAborted);
        }

        var identity = new ClaimsIdentity(SchemeName, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, entry.UserId.ToString())
            .SetClaim(Claims.PreferredUsername, entry.User.UserName)
            .SetClaim(Claims.Name, entry.User.DisplayName)
            .SetClaim(TokenIdClaim, entry.Id.ToString());
        identity.SetExpirationDate(entry.ExpiresAt);
        identity.SetScopes(entry.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var roles = await Context.RequestServices.GetRequiredService<UserManager<Accounts.User>>().GetRolesAsync(entry.User);
        identity.SetClaims(Claims.Role, [.. roles]);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
