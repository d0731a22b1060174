using System.Data.Common;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using ConnText.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.AccessTokens;

/// <summary>Authenticates <c>Authorization: Bearer ctp_…</c> with a personal access token, checked on every request.</summary>
internal sealed partial class PersonalAccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ConnTextDbContext db,
    TimeProvider time,
    IOptions<AccessTokensOptions> tokenOptions,
    LastUseRecorder lastUse)
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
        var entry = await FindToken.For(db)(db, hash, Context.RequestAborted);
        if (entry is null || entry.RevokedAt is not null || entry.ExpiresAt <= now || entry.IsDisabled)
        {
            return AuthenticateResult.Fail("The token is unknown, revoked or expired.");
        }

        await RecordUseAsync(entry.Id, entry.LastUsedAt, now);

        var identity = new ClaimsIdentity(SchemeName, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, entry.UserId.ToString())
            .SetClaim(Claims.PreferredUsername, entry.UserName)
            .SetClaim(Claims.Name, entry.DisplayName)
            .SetClaim(TokenIdClaim, entry.Id.ToString());
        identity.SetExpirationDate(entry.ExpiresAt);
        identity.SetScopes(entry.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        identity.SetClaims(Claims.Role, [.. entry.Roles.OfType<string>()]);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>What authenticating with a token needs: the token, its user and the user's roles.</summary>
    private sealed record TokenEntry(
        Guid Id, Guid UserId, string Scopes, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt,
        string? UserName, string DisplayName, bool IsDisabled, List<string?> Roles);

    // One round trip, nothing tracked. This runs on every request and every hub connect made with a token, so it is
    // compiled once: EF then no longer walks the expression tree on every call to extract parameters and find the
    // cached query (docs/performance.md, "History paging").
    private static readonly PerModelQuery<Func<ConnTextDbContext, byte[], CancellationToken, Task<TokenEntry?>>> FindToken = new(() =>
        EF.CompileAsyncQuery((ConnTextDbContext db, byte[] hash, CancellationToken cancellationToken) => db.PersonalAccessTokens
            .AsNoTracking()
            .Where(t => t.SecretHash == hash)
            .Select(t => new TokenEntry(
                t.Id, t.UserId, t.Scopes, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.User!.UserName, t.User.DisplayName, t.User.IsDisabled,
                db.UserRoles.Where(ur => ur.UserId == t.UserId).Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => r.Name).ToList()))
            .FirstOrDefault()));

    /// <summary>
    /// Writes the last use at most once per <see cref="AccessTokensOptions.LastUsedWriteIntervalMinutes"/>: compared in
    /// memory first (no write at all in the common case), then a conditional UPDATE so concurrent requests on several
    /// nodes change the row once. Best effort: a failed write never fails the request it belongs to.
    /// </summary>
    private async Task RecordUseAsync(Guid tokenId, DateTimeOffset? storedLastUse, DateTimeOffset now)
    {
        var interval = TimeSpan.FromMinutes(tokenOptions.Value.LastUsedWriteIntervalMinutes);
        if (!lastUse.TryClaim(tokenId, storedLastUse, now, interval))
        {
            return;
        }

        var staleBefore = now - interval;
        try
        {
            await db.PersonalAccessTokens
                .Where(t => t.Id == tokenId && (t.LastUsedAt == null || t.LastUsedAt < staleBefore))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }
        catch (DbException ex)
        {
            lastUse.Release(tokenId);
            LogLastUseNotWritten(Logger, ex, tokenId);
        }
        catch (OperationCanceledException)
        {
            lastUse.Release(tokenId);
            throw;
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Could not record the last use of personal access token {TokenId}")]
    private static partial void LogLastUseNotWritten(ILogger logger, Exception exception, Guid tokenId);
}
