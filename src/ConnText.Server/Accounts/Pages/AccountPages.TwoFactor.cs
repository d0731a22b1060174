using ConnText.Server.Hosting;
using ConnText.Server.TwoFactor;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Accounts.Pages;

/// <summary>
/// The login's second step for accounts with two-factor sign-in: after the right password, Identity's short-lived
/// two-factor cookie names the user (nobody is signed in yet), and this page asks for the authenticator code or a
/// recovery code. Wrong codes count towards the same temporary lockout as wrong passwords.
/// </summary>
internal static partial class AccountPages
{
    // Bound from properties, as the other forms (see LoginForm).
    internal sealed record TwoFactorForm
    {
        public string? Code { get; init; }

        public string? RecoveryCode { get; init; }

        public string? ReturnUrl { get; init; }
    }

    private const string TwoFactorPath = "/account/login/two-factor";
    private const string WrongCode = "That code is not right. Enter the 6-digit code your authenticator app shows now.";
    private const string WrongRecoveryCode = "That recovery code is not valid, or it has been used already.";
    private const string TooManyAttempts = "Too many failed attempts. Wait a few minutes and try again.";

    private static void MapTwoFactorLogin(RouteGroupBuilder group)
    {
        group.MapGet("/login/two-factor", async (string? returnUrl, SignInManager<User> signIn, IOptions<ConnTextOptions> host) =>
            await signIn.GetTwoFactorAuthenticationUserAsync() is null
                // No password step in this browser, or it is older than the two-factor cookie lasts: start again.
                ? Results.LocalRedirect(LoginUrl(SafeReturnUrl(returnUrl)))
                : TwoFactor(host, SafeReturnUrl(returnUrl), error: null));

        group.MapPost("/login/two-factor", TwoFactorLoginAsync).RequireRateLimiting(Auth.AuthRateLimits.AuthPolicy);
    }

    private static string TwoFactorUrl(string? returnUrl) =>
        TwoFactorPath + (returnUrl is null ? "" : "?ReturnUrl=" + Uri.EscapeDataString(returnUrl));

    private static string LoginUrl(string? returnUrl) =>
        "/account/login" + (returnUrl is null ? "" : "?ReturnUrl=" + Uri.EscapeDataString(returnUrl));

    private static async Task<IResult> TwoFactorLoginAsync(
        [FromForm] TwoFactorForm form,
        UserManager<User> users,
        SignInManager<User> signIn,
        IOptions<ConnTextOptions> host,
        IOptions<AccountsOptions> accounts,
        HttpContext context,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("ConnText.Server.Accounts.Login");
        var returnUrl = SafeReturnUrl(form.ReturnUrl);
        var ip = context.Connection.RemoteIpAddress?.ToString();
        var user = await signIn.GetTwoFactorAuthenticationUserAsync();
        if (user is null)
        {
            return Login(host, accounts, returnUrl, username: null,
                "The sign-in took too long. Enter your password again.", StatusCodes.Status401Unauthorized);
        }

        if (user.IsDisabled)
        {
            await context.SignOutAsync(IdentityConstants.TwoFactorUserIdScheme);
            LogLoginFailed(logger, "account disabled", ip, user.Id);
            return Login(host, accounts, returnUrl, user.UserName, "This account is disabled.", StatusCodes.Status403Forbidden);
        }

        var usedRecoveryCode = !string.IsNullOrWhiteSpace(form.RecoveryCode);
        if (!usedRecoveryCode && string.IsNullOrWhiteSpace(form.Code))
        {
            return TwoFactor(host, returnUrl, "Enter the 6-digit code your authenticator app shows.", StatusCodes.Status400BadRequest);
        }

        var result = usedRecoveryCode
            ? await RecoveryCodeSignInAsync(users, signIn, user, form.RecoveryCode)
            : await signIn.TwoFactorAuthenticatorSignInAsync(
                TwoFactorCodes.NormalizeAuthenticatorCode(form.Code) ?? "", isPersistent: false, rememberClient: false);
        if (result.IsLockedOut)
        {
            LogLoginFailed(logger, "temporarily locked", ip, user.Id);
            return TwoFactor(host, returnUrl, TooManyAttempts, StatusCodes.Status429TooManyRequests, usedRecoveryCode);
        }

        if (!result.Succeeded)
        {
            LogLoginFailed(logger, usedRecoveryCode ? "wrong recovery code" : "wrong authenticator code", ip, user.Id);
            return TwoFactor(host, returnUrl, usedRecoveryCode ? WrongRecoveryCode : WrongCode, StatusCodes.Status401Unauthorized, usedRecoveryCode);
        }

        LogLoginSucceeded(logger, user.Id, ip);
        return Results.LocalRedirect(returnUrl ?? "/");
    }

    /// <summary>
    /// Identity's recovery-code sign-in neither refuses a locked-out account nor counts a wrong code; here both
    /// happen, as for authenticator codes, so recovery codes are no way around the lockout.
    /// </summary>
    private static async Task<Microsoft.AspNetCore.Identity.SignInResult> RecoveryCodeSignInAsync(
        UserManager<User> users, SignInManager<User> signIn, User user, string? typed)
    {
        if (await users.IsLockedOutAsync(user))
        {
            return Microsoft.AspNetCore.Identity.SignInResult.LockedOut;
        }

        if (TwoFactorCodes.NormalizeRecoveryCode(typed) is { } code)
        {
            var result = await signIn.TwoFactorRecoveryCodeSignInAsync(code);
            if (result.Succeeded)
            {
                return result;
            }
        }

        await users.AccessFailedAsync(user);
        return await users.IsLockedOutAsync(user)
            ? Microsoft.AspNetCore.Identity.SignInResult.LockedOut
            : Microsoft.AspNetCore.Identity.SignInResult.Failed;
    }

    private static RazorComponentResult<TwoFactorPage> TwoFactor(
        IOptions<ConnTextOptions> host, string? returnUrl, string? error, int status = StatusCodes.Status200OK, bool recoveryCode = false) =>
        new(new
        {
            ServerName = host.Value.Name,
            ReturnUrl = returnUrl,
            Error = error,
            RecoveryCodeOpen = recoveryCode,
        }) { StatusCode = status };

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Password accepted for user {UserId} from {IpAddress}; waiting for the second factor")]
    private static partial void LogSecondFactorRequired(ILogger logger, Guid userId, string? ipAddress);
}
