using System.Security.Claims;
using ConnText.Server.Accounts;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Auth;

/// <summary>
/// <c>/connect/authorize</c> after OpenIddict has validated the request (client, redirect URI, PKCE):
/// sends a visitor without a login cookie to the login page, then issues the authorization code.
/// Consent is implicit: the only clients are ConnText's own apps.
/// </summary>
internal sealed class AuthorizeEndpoint(
    UserManager<User> users,
    IOpenIddictApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request is missing.");

        var login = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (!login.Succeeded || request.HasPromptValue(PromptValues.Login))
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return OAuthErrors.Forbid(OpenIddictConstants.Errors.LoginRequired, "The user is not signed in.");
            }

            return Results.Challenge(
                new AuthenticationProperties { RedirectUri = ReturnUrlWithoutPromptLogin(context) },
                [IdentityConstants.ApplicationScheme]);
        }

        var user = await users.GetUserAsync(login.Principal);
        if (user is null || user.IsDisabled)
        {
            await context.SignOutAsync(IdentityConstants.ApplicationScheme);
            return OAuthErrors.Forbid(OpenIddictConstants.Errors.AccessDenied, "This account is disabled.");
        }

        var application = await applications.FindByClientIdAsync(request.ClientId!, context.RequestAborted)
            ?? throw new InvalidOperationException("OpenIddict validated a client that does not exist.");

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        ConnTextClaims.SetUserClaims(identity, user, await users.GetRolesAsync(user));
        identity.SetScopes(request.GetScopes());
        identity.SetResources("conntext");
        identity.SetClaim(ConnTextClaims.PendingDeviceName, Clip((string?)request["device_name"], Sessions.Session.DeviceNameMaxLength)
                                                            ?? await applications.GetDisplayNameAsync(application, context.RequestAborted));
        identity.SetClaim(ConnTextClaims.PendingDevicePlatform, Clip((string?)request["device_platform"], Sessions.Session.PlatformMaxLength));

        var authorization = await authorizations.CreateAsync(
            identity: identity,
            subject: user.Id.ToString(),
            client: (await applications.GetIdAsync(application, context.RequestAborted))!,
            type: AuthorizationTypes.AdHoc,
            scopes: identity.GetScopes(),
            cancellationToken: context.RequestAborted);
        identity.SetAuthorizationId(await authorizations.GetIdAsync(authorization, context.RequestAborted));
        ConnTextClaims.SetDestinations(identity);

        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static string ReturnUrlWithoutPromptLogin(HttpContext context)
    {
        // Keep every parameter (the authorization request is replayed after login) except prompt=login,
        // which would otherwise send the user back to the login page forever.
        var parameters = (context.Request.HasFormContentType ? context.Request.Form.AsEnumerable() : context.Request.Query)
            .Where(p => p.Key != Parameters.Prompt || !string.Equals(p.Value, PromptValues.Login, StringComparison.Ordinal))
            .Select(p => KeyValuePair.Create(p.Key, p.Value));
        return context.Request.PathBase + context.Request.Path + QueryString.Create(parameters);
    }

    private static string? Clip(string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var clean = new string(value.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return clean.Length <= max ? clean : clean[..max];
    }
}
