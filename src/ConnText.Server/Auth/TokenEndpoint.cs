using System.Security.Claims;
using ConnText.Server.Accounts;
using Microsoft.AspNetCore;
using ConnText.Server.Data;
using ConnText.Server.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Auth;

/// <summary>
/// <c>/connect/token</c> after OpenIddict has validated the grant (code + PKCE verifier, or a rolling
/// refresh token). Redeeming a code starts the session; every refresh checks that the user is still
/// enabled and the session not revoked or expired, and refreshes the user's claims.
/// </summary>
internal sealed partial class TokenEndpoint(
    UserManager<User> users,
    ConnTextDbContext db,
    IOptions<AuthOptions> options,
    TimeProvider time,
    ILogger<TokenEndpoint> logger)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");
        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
        {
            return OAuthErrors.Forbid(OpenIddictConstants.Errors.UnsupportedGrantType, "Only authorization_code and refresh_token are supported.");
        }

        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var principal = result.Principal ?? throw new InvalidOperationException("OpenIddict validated a grant without a principal.");

        var subject = principal.GetClaim(Claims.Subject)!;
        var user = await users.FindByIdAsync(subject);
        if (user is null || user.IsDisabled)
        {
            LogRefused(logger, subject, "account disabled or deleted");
            return OAuthErrors.Forbid(OpenIddictConstants.Errors.InvalidGrant, "The account is no longer active.");
        }

        var now = time.GetUtcNow();
        Session? session;
        if (request.IsAuthorizationCodeGrantType())
        {
            session = new Session
            {
                Id = Guid.CreateVersion7(now),
                UserId = user.Id,
                ClientId = request.ClientId ?? "",
                DeviceName = principal.GetClaim(ConnTextClaims.PendingDeviceName) ?? "",
                Platform = principal.GetClaim(ConnTextClaims.PendingDevicePlatform) ?? "",
                AuthorizationId = principal.GetAuthorizationId(),
                CreatedAt = now,
                ExpiresAt = now.AddDays(options.Value.RefreshTokenLifetimeDays),
            };
            db.Sessions.Add(session);
        }
        else
        {
            session = Guid.TryParse(principal.GetClaim(ConnTextClaims.SessionId), out var sessionId)
                ? await db.Sessions.FindAsync([sessionId], context.RequestAborted)
                : null;
            if (session is null || session.RevokedAt is not null || session.ExpiresAt <= now)
            {
                LogRefused(logger, subject, "session ended");
                return OAuthErrors.Forbid(OpenIddictConstants.Errors.InvalidGrant, "The session has ended; sign in again.");
            }
        }

        session.LastSeenAt = now;
        session.IpAddress = context.Connection.RemoteIpAddress?.ToString();
        await db.SaveChangesAsync(context.RequestAborted);

        // Start from the granted principal so OpenIddict's own claims (scopes, authorization, the fixed
        // refresh-token expiry) carry over; refresh what describes the user.
        var identity = new ClaimsIdentity(principal.Claims, principal.Identity?.AuthenticationType, Claims.Name, Claims.Role);
        ConnTextClaims.SetUserClaims(identity, user, await users.GetRolesAsync(user));
        identity.SetClaim(ConnTextClaims.SessionId, session.Id.ToString());
        identity.RemoveClaims(ConnTextClaims.PendingDeviceName).RemoveClaims(ConnTextClaims.PendingDevicePlatform);
        ConnTextClaims.SetDestinations(identity);

        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Token request refused for user {UserId}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string? userId, string reason);
}
