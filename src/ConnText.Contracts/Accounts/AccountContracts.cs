namespace ConnText.Contracts.Accounts;

/// <summary>Registers a new account with a username and password.</summary>
/// <param name="Username">3 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit; unique ignoring case.</param>
/// <param name="Password">8 to 1024 characters; not the username, not a commonly used password.</param>
/// <param name="DisplayName">Optional name shown to others, at most 64 characters; defaults to the username.</param>
/// <param name="Email">Optional e-mail address.</param>
/// <param name="InviteCode">Required when the server registers by invitation only.</param>
public sealed record RegisterAccountRequest(string? Username, string? Password, string? DisplayName = null, string? Email = null, string? InviteCode = null);

/// <summary>A user's account as its owner sees it.</summary>
/// <param name="Id">The user's stable id.</param>
/// <param name="Username">The username as the user typed it.</param>
/// <param name="DisplayName">The name shown to others.</param>
/// <param name="Email">The e-mail address, if any.</param>
/// <param name="Roles">Roles held, for example <c>admin</c>.</param>
/// <param name="CreatedAt">When the account was created (UTC).</param>
public sealed record AccountResponse(Guid Id, string Username, string DisplayName, string? Email, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt);
