using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;

namespace ConnText.Server.Accounts;

/// <summary>Username and password rules (NIST SP 800-63B: length, no composition rules, no common passwords).</summary>
internal static partial class AccountRules
{
    public const int UsernameMinLength = 3;
    public const int UsernameMaxLength = 32;
    public const int PasswordMinLength = 8;

    // Long enough for any passphrase or password manager; bounded so a request cannot make hashing expensive.
    public const int PasswordMaxLength = 1024;

    private static readonly Lazy<HashSet<string>> CommonPasswords = new(LoadCommonPasswords);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex UsernamePattern();

    public static IEnumerable<string> CheckUsername(string? username)
    {
        if (string.IsNullOrEmpty(username))
        {
            yield return "A username is required.";
            yield break;
        }

        if (username.Length is < UsernameMinLength or > UsernameMaxLength)
        {
            yield return $"A username has {UsernameMinLength} to {UsernameMaxLength} characters.";
        }

        if (!UsernamePattern().IsMatch(username))
        {
            yield return "A username uses only letters a-z, digits, '.', '_' and '-', and starts with a letter or digit.";
        }
    }

    public static IEnumerable<string> CheckPassword(string? password, string? username)
    {
        if (string.IsNullOrEmpty(password))
        {
            yield return "A password is required.";
            yield break;
        }

        if (password.Length < PasswordMinLength)
        {
            yield return $"A password has at least {PasswordMinLength} characters.";
        }

        if (password.Length > PasswordMaxLength)
        {
            yield return $"A password has at most {PasswordMaxLength} characters.";
        }

        if (username is not null && string.Equals(password, username, StringComparison.OrdinalIgnoreCase))
        {
            yield return "The password cannot be the username.";
        }

        if (CommonPasswords.Value.Contains(password))
        {
            yield return "This password is one of the most commonly used ones; choose another.";
        }
    }

    private static HashSet<string> LoadCommonPasswords()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ConnText.Server.Accounts.common-passwords.txt")
            ?? throw new InvalidOperationException("The common-password list is missing from the assembly.");
        using var reader = new StreamReader(stream);
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                set.Add(line);
            }
        }

        return set;
    }
}

/// <summary>Applies <see cref="AccountRules"/> wherever Identity sets a password (registration, reset, change).</summary>
internal sealed class PasswordRulesValidator : IPasswordValidator<User>
{
    public Task<IdentityResult> ValidateAsync(UserManager<User> manager, User user, string? password)
    {
        var errors = AccountRules.CheckPassword(password, user.UserName)
            .Select(message => new IdentityError { Code = "PasswordPolicy", Description = message })
            .ToArray();
        return Task.FromResult(errors.Length == 0 ? IdentityResult.Success : IdentityResult.Failed(errors));
    }
}
