using ConnText.Server.Auth;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Client;
using OpenIddict.Client.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Accounts.Pages;

/// <summary>
/// "Sign in with ..." an external OpenID Connect provider (docs/adr/0007): the button's POST starts
/// OpenIddict's client (code flow, PKCE, state), and the provider's redirect comes back to the callback,
/// which links or creates the local account and signs it in with the login cookie of the password form.
/// </summary>
internal static partial class AccountPages
{
    // Bound from properties, as the other forms (see LoginForm).
    internal sealed record ExternalLoginForm
    {
        public string? ReturnUrl { get; init; }
    }

    private static void MapExternalLogin(this RouteGroupBuilder account)
    {
        account.MapPost("/external/{name}", ExternalChallengeAsync);

        // The provider's answer. OpenIddict has already checked the state token, the correlation cookie of this
        // browser, the issuer, and redeemed the code (with the PKCE verifier) for tokens it validated.
        // No antiforgery token: the state and the correlation cookie play that part.
        account.MapMethods("/external/callback/{name}", [HttpMethods.Get, HttpMethods.Post], ExternalCallbackAsync)
            .DisableAntiforgery();
    }

    private static async Task<IResult> ExternalChallengeAsync(
        [FromRoute] string name,
        [FromForm] ExternalLoginForm form,
        HttpContext context,
        IOptions<AuthOptions> auth,
        IOptions<ConnTextOptions> host,
        IOptions<AccountsOptions> accountOptions,
        ILoggerFactory loggers)
    {
        if (FindProvider(auth.Value, name) is not { } provider)
        {
            return Results.NotFound();
        }

        var returnUrl = SafeReturnUrl(form.ReturnUrl);
        var properties = new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictClientAspNetCoreConstants.Properties.ProviderName] = provider.Name,
        })
        {
            // Carried inside the protected state token to the callback.
            RedirectUri = returnUrl ?? "/",
        };

        try
        {
            // Read (or take from the cache) the provider's discovery document first, so that a provider that is
            // down or misconfigured gets a page here, not OpenIddict's plain-text error that loses the return URL.
            // (OpenIddict's client is registered only when a provider is configured, hence no parameter injection.)
            await context.RequestServices.GetRequiredService<OpenIddictClientService>()
                .GetServerConfigurationByProviderNameAsync(provider.Name, context.RequestAborted);
        }
        catch (InvalidOperationException ex)
        {
            // The inner exception says what went wrong (e.g. "A generic 404 error was returned"); the outer one adds its stack trace.
            LogExternalLoginFailed(loggers.CreateLogger("ConnText.Server.Accounts.ExternalLogin"), provider.Name, (ex.InnerException ?? ex).Message);
            return Login(host, accountOptions, returnUrl, username: null,
                $"Signing in with {provider.DisplayName} is not possible right now. Try again later, or sign in with a password.",
                StatusCodes.Status502BadGateway);
        }

        return Results.Challenge(properties, [OpenIddictClientAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static async Task<IResult> ExternalCallbackAsync(
        [FromRoute] string name,
        HttpContext context,
        IOptions<AuthOptions> auth,
        ExternalAccounts accounts,
        SignInManager<User> signIn,
        IOptions<ConnTextOptions> host,
        IOptions<AccountsOptions> accountOptions,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("ConnText.Server.Accounts.ExternalLogin");
        if (FindProvider(auth.Value, name) is not { } provider)
        {
            return Results.NotFound();
        }

        var result = await context.AuthenticateAsync(OpenIddictClientAspNetCoreDefaults.AuthenticationScheme);
        var returnUrl = SafeReturnUrl(result.Properties?.RedirectUri);
        var principal = result.Principal;
        var subject = principal?.GetClaim(Claims.Subject);
        var answeredBy = principal?.GetClaim(Claims.Private.ProviderName);
        if (!result.Succeeded || principal is null || string.IsNullOrEmpty(subject)
            || !string.Equals(answeredBy, provider.Name, StringComparison.Ordinal))
        {
            LogExternalLoginFailed(logger, provider.Name,
                result.Properties?.GetString(OpenIddictClientAspNetCoreConstants.Properties.Error) ?? result.Failure?.Message ?? "no subject or wrong provider");
            return Login(host, accountOptions, returnUrl, username: null,
                $"Signing in with {provider.DisplayName} did not complete. Try again.", StatusCodes.Status400BadRequest);
        }

        var outcome = await accounts.FindOrCreateAsync(
            new ExternalIdentity(
                provider.Name,
                provider.DisplayName,
                subject,
                principal.GetClaim(Claims.PreferredUsername),
                principal.GetClaim(Claims.Name),
                principal.GetClaim(Claims.Email)),
            context.RequestAborted);

        switch (outcome.Status)
        {
            case ExternalAccountStatus.RegistrationClosed:
                LogExternalLoginRefused(logger, provider.Name, "no linked account and registration closed", null);
                return Login(host, accountOptions, returnUrl, username: null,
                    $"No account on this server is linked to your {provider.DisplayName} account, and this server does not accept new accounts.",
                    StatusCodes.Status403Forbidden);

            case ExternalAccountStatus.Disabled:
                LogExternalLoginRefused(logger, provider.Name, "account disabled", outcome.User!.Id);
                return Login(host, accountOptions, returnUrl, username: null, "This account is disabled.", StatusCodes.Status403Forbidden);
        }

        var user = outcome.User!;
        await signIn.SignInAsync(user, isPersistent: false, authenticationMethod: provider.Name);
        var ip = context.Connection.RemoteIpAddress?.ToString();
        LogExternalLoginSucceeded(logger, provider.Name, user.Id, outcome.Status == ExternalAccountStatus.Created, ip);
        return Results.LocalRedirect(returnUrl ?? "/");
    }

    private sealed record ProviderInfo(string Name, string DisplayName);

    /// <summary>The configured provider a URL names (case-insensitively), with its name as configured.</summary>
    private static ProviderInfo? FindProvider(AuthOptions options, string name)
    {
        foreach (var (key, provider) in options.ExternalProviders)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return new ProviderInfo(key, string.IsNullOrWhiteSpace(provider.DisplayName) ? key : provider.DisplayName);
            }
        }

        return null;
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information,
        Message = "External login with {Provider} succeeded for user {UserId} (new account: {Created}) from {IpAddress}")]
    private static partial void LogExternalLoginSucceeded(ILogger logger, string provider, Guid userId, bool created, string? ipAddress);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "External login with {Provider} refused ({Reason}) for user {UserId}")]
    private static partial void LogExternalLoginRefused(ILogger logger, string provider, string reason, Guid? userId);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "External login with {Provider} failed: {Error}")]
    private static partial void LogExternalLoginFailed(ILogger logger, string provider, string error);
}
