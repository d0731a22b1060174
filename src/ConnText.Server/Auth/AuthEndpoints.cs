using ConnText.Server.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Auth;

/// <summary>The OpenID Connect endpoints whose final step ConnText handles (OpenIddict validates the protocol first).</summary>
internal static class AuthEndpoints
{
    public static void MapAuthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Protocol endpoints: described by the discovery document (/.well-known/openid-configuration), not OpenAPI.
        var group = endpoints.MapGroup("/connect").ExcludeFromDescription();

        group.MapMethods("/authorize", [HttpMethods.Get, HttpMethods.Post],
                (HttpContext context, AuthorizeEndpoint endpoint) => endpoint.HandleAsync(context))
            .WithName("Authorize")
            .WithSummary("OAuth2 authorization endpoint (code flow, PKCE S256 required)")
            .WithDescription("Shows the login page when needed, then redirects to the client's redirect_uri with a single-use code.")
            .DisableAntiforgery();

        group.MapPost("/token", (HttpContext context, TokenEndpoint endpoint) => endpoint.HandleAsync(context))
            .RequireRateLimiting(AuthRateLimits.AuthPolicy)
            .WithName("Token")
            .WithSummary("OAuth2 token endpoint (authorization_code, refresh_token)")
            .WithDescription("Form-encoded per RFC 6749. Refresh tokens rotate on every use; a reused one revokes the login.")
            .DisableAntiforgery();

        group.MapMethods("/userinfo", [HttpMethods.Get, HttpMethods.Post], UserInfoAsync)
            .WithName("UserInfo")
            .WithSummary("OpenID Connect userinfo")
            .DisableAntiforgery();

        group.MapMethods("/endsession", [HttpMethods.Get, HttpMethods.Post], EndSessionAsync)
            .WithName("EndSession")
            .WithSummary("OpenID Connect end-session (logout)")
            .WithDescription("Ends the browser login and, with id_token_hint, the app session it names; then redirects.")
            .DisableAntiforgery();
    }

    private static async Task<IResult> UserInfoAsync(HttpContext context, UserManager<User> users)
    {
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var user = result.Principal is { } principal ? await users.FindByIdAsync(principal.GetClaim(Claims.Subject)!) : null;
        if (user is null || user.IsDisabled)
        {
            return Results.Challenge(
                new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = OpenIddictConstants.Errors.InvalidToken,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The account is no longer active.",
                }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var claims = new Dictionary<string, object?>(StringComparer.Ordinal) { [Claims.Subject] = user.Id.ToString() };
        var granted = result.Principal!;
        if (granted.HasScope(Scopes.Profile))
        {
            claims[Claims.PreferredUsername] = user.UserName;
            claims[Claims.Name] = user.DisplayName;
        }

        if (granted.HasScope(Scopes.Email) && user.Email is not null)
        {
            claims[Claims.Email] = user.Email;
            claims[Claims.EmailVerified] = user.EmailConfirmed;
        }

        return Results.Ok(claims);
    }

    private static async Task<IResult> EndSessionAsync(HttpContext context, Data.ConnTextDbContext db, SessionRevoker revoker)
    {
        // The id_token_hint (validated by OpenIddict) names the app session to end.
        var hint = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (Guid.TryParse(hint.Principal?.GetClaim(ConnTextClaims.SessionId), out var sessionId)
            && await db.Sessions.FirstOrDefaultAsync(s => s.Id == sessionId, context.RequestAborted) is { } session)
        {
            await revoker.RevokeAsync([session], context.RequestAborted);
        }

        await context.SignOutAsync(IdentityConstants.ApplicationScheme);
        return Results.SignOut(
            new AuthenticationProperties { RedirectUri = "/account/login" },
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }
}
