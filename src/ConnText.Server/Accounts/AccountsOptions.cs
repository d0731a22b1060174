namespace ConnText.Server.Accounts;

internal enum RegistrationMode
{
    Open,
    Invite,
    Closed,
}

/// <summary>Settings under <c>ConnText:Accounts</c>.</summary>
internal sealed class AccountsOptions
{
    public const string Section = "ConnText:Accounts";

    /// <summary><c>Open</c> (anyone may register), <c>Invite</c> (with an admin's invite code) or <c>Closed</c>.</summary>
    public RegistrationMode RegistrationMode { get; set; } = RegistrationMode.Open;

    /// <summary>PBKDF2-HMAC-SHA512 iterations for new password hashes (OWASP: at least 210,000).</summary>
    public int PasswordHashIterations { get; set; } = 210_000;
}
