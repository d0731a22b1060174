namespace ConnText.Server.Accounts;

internal enum RegistrationMode
{
    Open,
    Closed,
}

/// <summary>Settings under <c>ConnText:Accounts</c>.</summary>
internal sealed class AccountsOptions
{
    public const string Section = "ConnText:Accounts";

    /// <summary><c>Open</c> (anyone may register) or <c>Closed</c> (no new accounts).</summary>
    public RegistrationMode RegistrationMode { get; set; } = RegistrationMode.Open;

    /// <summary>PBKDF2-HMAC-SHA512 iterations for new password hashes (OWASP: at least 210,000).</summary>
    public int PasswordHashIterations { get; set; } = 210_000;
}
