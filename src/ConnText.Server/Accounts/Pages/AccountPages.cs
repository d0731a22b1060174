using ConnText.Contracts.Accounts;
using ConnText.Server.Auth;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Accounts.Pages;

/// <summary>
/// The server's own login and registration pages (the "custom login" the apps send the system
/// browser to). Plain HTML forms with antiforgery tokens; no password ever reaches an app.
/// </summary>
internal static partial class AccountPages
{
    // The forms are bound from properties, never from constructor parameters: the form binder requires every constructor
    // parameter to be posted (a default value does not help), and a browser posts only the fields the page rendered;
    // the registration page shows the invite code only in invite mode.
    internal sealed record LoginForm
    {
        public string? Username { get; init; }

        public string? Password { get; init; }

        public string? ReturnUrl { get; init; }
    }

    internal sealed record RegisterForm
    {
        public string? Username { get; init; }

        public string? Password { get; init; }

        public string? DisplayName { get; init; }

        public string? ReturnUrl { get; init; }

        public string? InviteCode { get; init; }
    }

    private const string WrongCredentials = "Wrong username or password.";

    public static void MapAccountPages(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/account").ExcludeFromDescription();

        group.MapGet("/login", LoginPage);

        group.MapPost("/login", LoginAsync).RequireRateLimiting(AuthRateLimits.AuthPolicy);

        group.MapGet("/register", (string? returnUrl, string? inviteCode, IOptions<ConnTextOptions> host, IOptions<AccountsOptions> accounts) =>
            Register(host, accounts, new RegisterForm { ReturnUrl = SafeReturnUrl(returnUrl), InviteCode = inviteCode }, error: null, errors: null));

        group.MapPost("/register", RegisterAsync).RequireRateLimiting(AuthRateLimits.AuthPolicy);

        MapTwoFactorLogin(group);

        group.MapPost("/logout", async (SignInManager<User> signIn) =>
        {
            await signIn.SignOutAsync();
            return Results.Redirect("/account/login");
        });

        group.MapExternalLogin();
    }

    /// <summary>
    /// The sign-in form. While password hashing is too busy to take another sign-in, it says so at once (503 with
    /// <c>Retry-After</c>, the form still there for later) instead of letting the user type a password that would be
    /// refused: in a login storm that spares the server the form post of every attempt it would turn away.
    /// </summary>
    private static RazorComponentResult<LoginPage> LoginPage(
        string? returnUrl, IOptions<ConnTextOptions> host, IOptions<AccountsOptions> accounts, PasswordHashingGate hashing, HttpContext context)
    {
        return hashing.BusyFor() is { } retryAfter
            ? Login(host, accounts, SafeReturnUrl(returnUrl), username: null, Busy(context, retryAfter), StatusCodes.Status503ServiceUnavailable)
            : Login(host, accounts, SafeReturnUrl(returnUrl), username: null, error: null);
    }

    /// <summary>Sets <c>Retry-After</c> and returns the message a page shows when hashing is too busy.</summary>
    private static string Busy(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = PasswordHashingBusyException.WholeSeconds(retryAfter);
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"The server is busy signing other people in. Try again in {seconds} seconds.";
    }

    private static async Task<IResult> LoginAsync(
        [FromForm] LoginForm form,
        UserManager<User> users,
        SignInManager<User> signIn,
        IOptions<ConnTextOptions> host,
        IOptions<AccountsOptions> accounts,
        HttpContext context,
        LoginThrottle throttle,
        PasswordHashingGate hashing,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("ConnText.Server.Accounts.Login");
        var returnUrl = SafeReturnUrl(form.ReturnUrl);
        var ip = context.Connection.RemoteIpAddress?.ToString();
        if (string.IsNullOrEmpty(form.Username) || string.IsNullOrEmpty(form.Password) || form.Password.Length > AccountRules.PasswordMaxLength)
        {
            return Login(host, accounts, returnUrl, form.Username, WrongCredentials, StatusCodes.Status400BadRequest);
        }

        if (throttle.TryAttempt(form.Username) is { } wait)
        {
            LogLoginFailed(logger, "account rate limit", ip);
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Login(host, accounts, returnUrl, form.Username,
                $"Too many sign-in attempts for this account. Try again in {seconds} seconds.", StatusCodes.Status429TooManyRequests);
        }

        try
        {
            return await CheckCredentialsAsync(form, returnUrl, users, signIn, host, accounts, ip, hashing, logger, context.RequestAborted);
        }
        catch (PasswordHashingBusyException busy)
        {
            LogLoginFailed(logger, "password hashing busy", ip);
            return Login(host, accounts, returnUrl, form.Username, Busy(context, busy.RetryAfter), StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static async Task<IResult> CheckCredentialsAsync(
        LoginForm form, string? returnUrl, UserManager<User> users, SignInManager<User> signIn, IOptions<ConnTextOptions> host,
        IOptions<AccountsOptions> accounts, string? ip, PasswordHashingGate hashing, ILogger logger, CancellationToken cancellationToken)
    {
        // In a storm most attempts are turned away: before the look-up, so that costs the database nothing.
        hashing.ThrowIfBusy();
        var user = await users.FindByNameAsync(form.Username!);
        if (user is null)
        {
            // Same work and answer as a wrong password, so a response never tells whether a name exists.
            await hashing.RunAsync(() => Task.FromResult(users.PasswordHasher.HashPassword(new User(), form.Password!)), cancellationToken);
            LogLoginFailed(logger, "unknown user", ip);
            return Login(host, accounts, returnUrl, form.Username, WrongCredentials, StatusCodes.Status401Unauthorized);
        }

        var result = await hashing.RunAsync(() => signIn.CheckPasswordSignInAsync(user, form.Password!, lockoutOnFailure: true), cancellationToken);
        if (result.IsLockedOut)
        {
            LogLoginFailed(logger, "temporarily locked", ip, user.Id);
            return Login(host, accounts, returnUrl, form.Username,
                "Too many failed attempts. Wait a few minutes and try again.", StatusCodes.Status429TooManyRequests);
        }

        if (!result.Succeeded)
        {
            LogLoginFailed(logger, "wrong password", ip, user.Id);
            return Login(host, accounts, returnUrl, form.Username, WrongCredentials, StatusCodes.Status401Unauthorized);
        }

        if (user.IsDisabled)
        {
            LogLoginFailed(logger, "account disabled", ip, user.Id);
            return Login(host, accounts, returnUrl, form.Username, "This account is disabled.", StatusCodes.Status403Forbidden);
        }

        if (await signIn.IsTwoFactorEnabledAsync(user))
        {
            // Identity's standard way into the second step: the short-lived two-factor cookie that names the user,
            // and no login yet. It checks the password once more, which costs one hash, only after the right password.
            var pending = await hashing.RunAsync(
                () => signIn.PasswordSignInAsync(user, form.Password!, isPersistent: false, lockoutOnFailure: true), cancellationToken);
            if (pending.RequiresTwoFactor)
            {
                LogSecondFactorRequired(logger, user.Id, ip);
                return Results.LocalRedirect(TwoFactorUrl(returnUrl));
            }

            if (!pending.Succeeded)
            {
                // The account changed between the two checks (a new password, a lockout by parallel attempts).
                return Login(host, accounts, returnUrl, form.Username, WrongCredentials, StatusCodes.Status401Unauthorized);
            }
        }
        else
        {
            await signIn.SignInAsync(user, isPersistent: false);
        }

        LogLoginSucceeded(logger, user.Id, ip);
        return Results.LocalRedirect(returnUrl ?? "/");
    }

    private static async Task<IResult> RegisterAsync(
        [FromForm] RegisterForm form,
        RegisterAccount register,
        SignInManager<User> signIn,
        IOptions<ConnTextOptions> host,
        IOptions<AccountsOptions> accounts,
        HttpContext context,
        CancellationToken cancellationToken)
    {
        var safeForm = form with { ReturnUrl = SafeReturnUrl(form.ReturnUrl) };
        RegistrationOutcome outcome;
        try
        {
            outcome = await register.RegisterAsync(
                new RegisterAccountRequest(form.Username, form.Password, form.DisplayName, InviteCode: form.InviteCode), cancellationToken);
        }
        catch (PasswordHashingBusyException busy)
        {
            return Register(host, accounts, safeForm, Busy(context, busy.RetryAfter), null, StatusCodes.Status503ServiceUnavailable);
        }
        if (outcome.Closed)
        {
            return Register(host, accounts, safeForm, null, null, StatusCodes.Status403Forbidden);
        }

        if (outcome.UsernameTaken)
        {
            return Register(host, accounts, safeForm, null,
                new Dictionary<string, string[]> { ["username"] = [RegisterAccount.UsernameTakenMessage] }, StatusCodes.Status409Conflict);
        }

        if (outcome.Errors is { } errors)
        {
            return Register(host, accounts, safeForm, null, errors, StatusCodes.Status400BadRequest);
        }

        await signIn.SignInAsync(outcome.User!, isPersistent: false);
        return Results.LocalRedirect(safeForm.ReturnUrl ?? "/");
    }

    private static RazorComponentResult<LoginPage> Login(
        IOptions<ConnTextOptions> host, IOptions<AccountsOptions> accounts, string? returnUrl, string? username, string? error,
        int status = StatusCodes.Status200OK) =>
        new(new
        {
            ServerName = host.Value.Name,
            ReturnUrl = returnUrl,
            Username = username,
            Error = error,
            RegistrationOpen = accounts.Value.RegistrationMode != RegistrationMode.Closed,
        }) { StatusCode = status };

    private static RazorComponentResult<RegisterPage> Register(
        IOptions<ConnTextOptions> host, IOptions<AccountsOptions> accounts, RegisterForm form, string? error,
        IReadOnlyDictionary<string, string[]>? errors, int status = StatusCodes.Status200OK) =>
        new(new
        {
            ServerName = host.Value.Name,
            form.ReturnUrl,
            form.Username,
            form.DisplayName,
            Error = error,
            Errors = errors,
            form.InviteCode,
            RegistrationOpen = accounts.Value.RegistrationMode != RegistrationMode.Closed,
            InviteRequired = accounts.Value.RegistrationMode == RegistrationMode.Invite,
        }) { StatusCode = status };

    /// <summary>Only same-site paths: an open redirect would let a phishing link bounce through the login.</summary>
    private static string? SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 and < 4096 } url && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal)
        && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : null;

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Login failed ({Reason}) from {IpAddress} for user {UserId}")]
    private static partial void LogLoginFailed(ILogger logger, string reason, string? ipAddress, Guid? userId = null);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Login succeeded for user {UserId} from {IpAddress}")]
    private static partial void LogLoginSucceeded(ILogger logger, Guid userId, string? ipAddress);
}
