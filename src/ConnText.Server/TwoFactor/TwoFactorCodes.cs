using ConnText.Server.Accounts;
using Microsoft.AspNetCore.Identity;

namespace ConnText.Server.TwoFactor;

/// <summary>What checking a second-factor code found.</summary>
internal enum CodeCheck
{
    Valid,
    Missing,
    Invalid,
    LockedOut,
}

/// <summary>
/// Checks a code that proves the caller holds the second factor (authenticator code, or a recovery code that is
/// used up), for account changes made with an access token. Wrong codes count towards the same temporary lockout
/// as wrong passwords: a stolen token must not be a way to guess codes without limit.
/// </summary>
internal sealed partial class TwoFactorCodeCheck(UserManager<User> users, ILogger<TwoFactorCodeCheck> logger)
{
    public async Task<CodeCheck> CheckAsync(User user, string? code)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            return CodeCheck.Missing;
        }

        if (await users.IsLockedOutAsync(user))
        {
            return CodeCheck.LockedOut;
        }

        var authenticatorCode = TwoFactorCodes.NormalizeAuthenticatorCode(code);
        var recoveryCode = TwoFactorCodes.NormalizeRecoveryCode(code);
        if ((authenticatorCode is not null
             && await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, authenticatorCode))
            || (recoveryCode is not null && (await users.RedeemTwoFactorRecoveryCodeAsync(user, recoveryCode)).Succeeded))
        {
            await users.ResetAccessFailedCountAsync(user);
            return CodeCheck.Valid;
        }

        LogCodeRefused(logger, user.Id);
        await users.AccessFailedAsync(user);
        return await users.IsLockedOutAsync(user) ? CodeCheck.LockedOut : CodeCheck.Invalid;
    }

    [LoggerMessage(EventId = 3205, Level = LogLevel.Warning, Message = "Wrong two-factor code for user {UserId} on an account change")]
    private static partial void LogCodeRefused(ILogger logger, Guid userId);
}

/// <summary>
/// How codes are typed: apps show "123 456"; recovery codes are shown in upper case but may be typed in any.
/// Anything that cannot be a code is refused before it reaches the store (Identity throws on an empty recovery code).
/// </summary>
internal static class TwoFactorCodes
{
    private const int MaxAuthenticatorCodeLength = 10;
    private const int MaxRecoveryCodeLength = 32;

    /// <summary>The digits without the spaces and dashes apps group them with; null when it cannot be an authenticator code.</summary>
    public static string? NormalizeAuthenticatorCode(string? code)
    {
        var digits = code?.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        return digits is { Length: > 0 and <= MaxAuthenticatorCodeLength } && digits.All(char.IsAsciiDigit) ? digits : null;
    }

    /// <summary>The recovery code as Identity stores it (upper case, with its dash); null when it cannot be a recovery code.</summary>
    public static string? NormalizeRecoveryCode(string? code)
    {
        var trimmed = code?.Trim().ToUpperInvariant();
        return trimmed is { Length: > 0 and <= MaxRecoveryCodeLength } && trimmed.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            ? trimmed
            : null;
    }
}
