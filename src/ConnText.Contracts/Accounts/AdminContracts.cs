namespace ConnText.Contracts.Accounts;

/// <summary>A user as an administrator sees them.</summary>
/// <param name="Id">The user's id.</param>
/// <param name="Username">Username.</param>
/// <param name="DisplayName">Display name.</param>
/// <param name="Email">E-mail address, if any.</param>
/// <param name="Roles">Roles held.</param>
/// <param name="Disabled">Whether the account is disabled.</param>
/// <param name="CreatedAt">When the account was created.</param>
public sealed record AdminUserResponse(
    Guid Id, string Username, string DisplayName, string? Email, IReadOnlyList<string> Roles, bool Disabled, DateTimeOffset CreatedAt);

/// <summary>Sets a new password for a user (an admin's reset); ends all of their sessions.</summary>
/// <param name="NewPassword">The new password (same rules as registration).</param>
public sealed record ResetPasswordRequest(string? NewPassword);

/// <summary>Creates an invite code for registration in invite mode.</summary>
/// <param name="MaxUses">How many accounts it may create, 1 to 1000 (default 1).</param>
/// <param name="ExpiresInHours">1 to 8760 hours (default 168, a week).</param>
/// <param name="Note">Who it is for, at most 200 characters.</param>
public sealed record CreateInviteRequest(int? MaxUses = null, int? ExpiresInHours = null, string? Note = null);

/// <summary>An invite as listed (never with its code).</summary>
/// <param name="Id">The invite's id.</param>
/// <param name="Note">The note.</param>
/// <param name="MaxUses">Accounts it may create.</param>
/// <param name="Uses">Accounts created with it so far.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="ExpiresAt">When it stops working.</param>
/// <param name="Revoked">Whether an admin revoked it.</param>
public sealed record InviteResponse(Guid Id, string Note, int MaxUses, int Uses, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, bool Revoked);

/// <summary>A new invite: the code is in this response only.</summary>
/// <param name="Code">The invite code to give to the person.</param>
/// <param name="Details">The invite's description.</param>
public sealed record CreatedInviteResponse(string Code, InviteResponse Details);
