using System.Globalization;
using System.Security.Claims;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Accounts;
using ConnText.Server.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.TwoFactor;

/// <summary>
/// Two-factor sign-in with an authenticator app (RFC 6238 TOTP) for the current user: set up, turn on with a
/// code, turn off or renew recovery codes with a code. Identity keeps the authenticator key and the recovery
/// codes in <c>user_tokens</c>; the login page asks for the code after the password.
/// </summary>
internal static partial class TwoFactorEndpoints
{
    public const int RecoveryCodeCount = 10;

    private const string LogCategory = "ConnText.Server.TwoFactor";

    // Where Identity's UserStoreBase keeps the authenticator key and recovery codes. Identity has no public call that
    // removes them, only ones that replace them, and turning two-factor sign-in off should leave no secret behind.
    private const string IdentityStoreLoginProvider = "[AspNetUserStore]";
    private const string AuthenticatorKeyTokenName = "AuthenticatorKey";
    private const string RecoveryCodesTokenName = "RecoveryCodes";

    public static IServiceCollection AddTwoFactor(this IServiceCollection services)
    {
        services.TryAddScoped<TwoFactorCodeCheck>();
        return services;
    }

    public static RouteGroupBuilder MapTwoFactorEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/me/two-factor").WithTags("Two-factor authentication").RequireAuthorization(ApiScopes.InteractivePolicy);

        group.MapGet("/", GetStatusAsync)
            .WithName("GetTwoFactorStatus")
            .WithSummary("Is two-factor sign-in on")
            .WithDescription("Whether signing in asks for an authenticator code after the password, and how many recovery codes are left.");

        group.MapPost("/setup", SetUpAsync)
            .WithName("SetUpTwoFactor")
            .WithSummary("Create an authenticator secret")
            .WithDescription("Generates a new secret (replacing one not yet turned on) and returns it as text, as an otpauth:// URI " +
                             "and as a QR code. Sign-in does not change until the secret is confirmed with enable. " +
                             "Refused with conflict while two-factor sign-in is on: turn it off first, which needs a code.")
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapPost("/enable", EnableAsync)
            .WithName("EnableTwoFactor")
            .WithSummary("Turn on two-factor sign-in")
            .WithDescription("Checks a code from the authenticator app against the secret from setup, turns two-factor sign-in on " +
                             $"and returns {RecoveryCodeCount} recovery codes, shown only this once.")
            .Accepts<TwoFactorCodeRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        group.MapPost("/disable", DisableAsync)
            .WithName("DisableTwoFactor")
            .WithSummary("Turn off two-factor sign-in")
            .WithDescription("Needs a current authenticator code or a recovery code. Removes the secret and the recovery codes. " +
                             "Wrong codes count towards the account's temporary lockout (rate-limited, with Retry-After).")
            .Accepts<TwoFactorCodeRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        group.MapPost("/recovery-codes", RenewRecoveryCodesAsync)
            .WithName("RenewTwoFactorRecoveryCodes")
            .WithSummary("Replace the recovery codes")
            .WithDescription($"Needs a current authenticator code or a recovery code. Returns {RecoveryCodeCount} new recovery codes, " +
                             "shown only this once; the earlier ones stop working. Wrong codes count towards the temporary lockout.")
            .Accepts<TwoFactorCodeRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        return group;
    }

    private static async Task<Results<Ok<TwoFactorStatusResponse>, ProblemHttpResult>> GetStatusAsync(
        ClaimsPrincipal principal, UserManager<User> users)
    {
        if (await FindUserAsync(principal, users) is not { } user)
        {
            return AccountGone();
        }

        var enabled = await users.GetTwoFactorEnabledAsync(user);
        return TypedResults.Ok(new TwoFactorStatusResponse(enabled, enabled ? await users.CountRecoveryCodesAsync(user) : 0));
    }

    private static async Task<Results<Ok<TwoFactorSetupResponse>, ProblemHttpResult>> SetUpAsync(
        ClaimsPrincipal principal, UserManager<User> users, ILoggerFactory loggers)
    {
        if (await FindUserAsync(principal, users) is not { } user)
        {
            return AccountGone();
        }

        // Replacing the secret of an active second factor would let anyone holding an access token take it over;
        // turning it off first needs a code.
        if (await users.GetTwoFactorEnabledAsync(user))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict,
                title: "Two-factor sign-in is on",
                detail: "Turn two-factor sign-in off (with a code) before setting up another authenticator.");
        }

        // A new secret on every setup: one shown earlier (a screenshot, an abandoned attempt) is never the one turned on.
        Check(await users.ResetAuthenticatorKeyAsync(user));
        var key = await users.GetAuthenticatorKeyAsync(user)
                  ?? throw new InvalidOperationException("Identity stored no authenticator key.");
        var uri = AuthenticatorUri.For(user.UserName!, key);
        var logger = loggers.CreateLogger(LogCategory);
        LogSetUp(logger, user.Id);
        return TypedResults.Ok(new TwoFactorSetupResponse(key, uri, AuthenticatorUri.QrCodeSvg(uri)));
    }

    private static async Task<Results<Ok<TwoFactorRecoveryCodesResponse>, ValidationProblem, ProblemHttpResult>> EnableAsync(
        TwoFactorCodeRequest request, ClaimsPrincipal principal, UserManager<User> users, ILoggerFactory loggers)
    {
        if (await FindUserAsync(principal, users) is not { } user)
        {
            return AccountGone();
        }

        if (await users.GetTwoFactorEnabledAsync(user))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict,
                title: "Two-factor sign-in is on", detail: "Two-factor sign-in is already on.");
        }

        if (string.IsNullOrEmpty(await users.GetAuthenticatorKeyAsync(user)))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict,
                title: "No authenticator set up", detail: "Create an authenticator secret first (POST /api/v1/me/two-factor/setup).");
        }

        // No lockout here: the caller has just been given the secret, so guessing codes would gain nothing.
        var code = TwoFactorCodes.NormalizeAuthenticatorCode(request.Code);
        if (code is null || !await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, code))
        {
            return CodeProblem(string.IsNullOrWhiteSpace(request.Code)
                ? "Enter the 6-digit code the authenticator app shows."
                : "This code does not match. Enter the code the app shows now, and check that this device's clock is right.");
        }

        Check(await users.SetTwoFactorEnabledAsync(user, true));
        var recoveryCodes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount)
                            ?? throw new InvalidOperationException("Identity generated no recovery codes.");
        var logger = loggers.CreateLogger(LogCategory);
        LogEnabled(logger, user.Id);
        return TypedResults.Ok(new TwoFactorRecoveryCodesResponse([.. recoveryCodes]));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DisableAsync(
        TwoFactorCodeRequest request, ClaimsPrincipal principal, UserManager<User> users, TwoFactorCodeCheck check,
        HttpContext context, TimeProvider time, ILoggerFactory loggers)
    {
        var (user, problem, invalid) = await VerifyCurrentFactorAsync(request, principal, users, check, context, time);
        if (problem is not null)
        {
            return problem;
        }

        if (invalid is not null)
        {
            return invalid;
        }

        Check(await users.SetTwoFactorEnabledAsync(user!, false));
        Check(await users.RemoveAuthenticationTokenAsync(user!, IdentityStoreLoginProvider, AuthenticatorKeyTokenName));
        Check(await users.RemoveAuthenticationTokenAsync(user!, IdentityStoreLoginProvider, RecoveryCodesTokenName));
        var logger = loggers.CreateLogger(LogCategory);
        LogDisabled(logger, user!.Id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<TwoFactorRecoveryCodesResponse>, ValidationProblem, ProblemHttpResult>> RenewRecoveryCodesAsync(
        TwoFactorCodeRequest request, ClaimsPrincipal principal, UserManager<User> users, TwoFactorCodeCheck check,
        HttpContext context, TimeProvider time, ILoggerFactory loggers)
    {
        var (user, problem, invalid) = await VerifyCurrentFactorAsync(request, principal, users, check, context, time);
        if (problem is not null)
        {
            return problem;
        }

        if (invalid is not null)
        {
            return invalid;
        }

        var recoveryCodes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user!, RecoveryCodeCount)
                            ?? throw new InvalidOperationException("Identity generated no recovery codes.");
        var logger = loggers.CreateLogger(LogCategory);
        LogRecoveryCodesRenewed(logger, user!.Id);
        return TypedResults.Ok(new TwoFactorRecoveryCodesResponse([.. recoveryCodes]));
    }

    /// <summary>
    /// The gate of every change to an enabled second factor: the account exists, has two-factor on, and the
    /// caller proves the current factor (authenticator or recovery code, counted towards lockout).
    /// </summary>
    private static async Task<(User? User, ProblemHttpResult? Problem, ValidationProblem? Invalid)> VerifyCurrentFactorAsync(
        TwoFactorCodeRequest request, ClaimsPrincipal principal, UserManager<User> users, TwoFactorCodeCheck check,
        HttpContext context, TimeProvider time)
    {
        if (await FindUserAsync(principal, users) is not { } user)
        {
            return (null, AccountGone(), null);
        }

        if (!await users.GetTwoFactorEnabledAsync(user))
        {
            return (null, NotEnabled(), null);
        }

        var result = await check.CheckAsync(user, request.Code);
        if (result == CodeCheck.LockedOut)
        {
            return (null, await LockedOutAsync(user, users, context, time), null);
        }

        return result == CodeCheck.Valid ? (user, null, null) : (null, null, CodeProblem(result));
    }

    private static async Task<User?> FindUserAsync(ClaimsPrincipal principal, UserManager<User> users) =>
        principal.GetClaim(Claims.Subject) is { } subject ? await users.FindByIdAsync(subject) : null;

    private static ProblemHttpResult AccountGone() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: ProblemTypes.Unauthorized,
            title: "Unauthorized", detail: "The account of this access token no longer exists.");

    private static ProblemHttpResult NotEnabled() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict,
            title: "Two-factor sign-in is off", detail: "Two-factor sign-in is not on for this account.");

    private static ValidationProblem CodeProblem(string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["code"] = [message] },
            type: ProblemTypes.Validation, title: "The code is not valid");

    private static ValidationProblem CodeProblem(CodeCheck result) => CodeProblem(result == CodeCheck.Missing
        ? "Enter the code the authenticator app shows, or a recovery code."
        : "This code is not valid. Enter the code the app shows now, or an unused recovery code.");

    private static async Task<ProblemHttpResult> LockedOutAsync(User user, UserManager<User> users, HttpContext context, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var seconds = Math.Max(1, (int)Math.Ceiling(((await users.GetLockoutEndDateAsync(user) ?? now) - now).TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, type: ProblemTypes.RateLimited,
            title: "Too many wrong codes", detail: $"Too many failed attempts on this account. Try again in {seconds} seconds.");
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                "Identity refused a two-factor change: " + string.Join("; ", result.Errors.Select(e => e.Code)));
        }
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "User {UserId} created an authenticator secret")]
    private static partial void LogSetUp(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "User {UserId} turned on two-factor sign-in")]
    private static partial void LogEnabled(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "User {UserId} turned off two-factor sign-in")]
    private static partial void LogDisabled(ILogger logger, Guid userId);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Information, Message = "User {UserId} replaced their recovery codes")]
    private static partial void LogRecoveryCodesRenewed(ILogger logger, Guid userId);
}
