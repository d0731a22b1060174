namespace ConnText.Contracts.Accounts;

/// <summary>Changes to my profile; omitted (null) fields stay as they are, an empty string clears optional ones.</summary>
/// <param name="DisplayName">1 to 64 characters.</param>
/// <param name="StatusText">At most 140 characters; empty clears it.</param>
/// <param name="Email">An e-mail address; empty clears it.</param>
public sealed record UpdateProfileRequest(string? DisplayName = null, string? StatusText = null, string? Email = null);

/// <summary>My own profile.</summary>
/// <param name="Id">My user id.</param>
/// <param name="Username">My username.</param>
/// <param name="DisplayName">The name others see.</param>
/// <param name="StatusText">My status line, if any.</param>
/// <param name="Email">My e-mail address, if any.</param>
/// <param name="Roles">My roles.</param>
/// <param name="CreatedAt">When my account was created.</param>
/// <param name="AvatarUrl">Where my avatar is served (changes when it changes), if I have one.</param>
public sealed record ProfileResponse(
    Guid Id, string Username, string DisplayName, string? StatusText, string? Email, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt,
    string? AvatarUrl = null);

/// <summary>Changes my password.</summary>
/// <param name="CurrentPassword">The password in use now.</param>
/// <param name="NewPassword">The new password (same rules as registration).</param>
/// <param name="EndOtherSessions">Also sign out every other device (recommended after a suspected leak).</param>
public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword, bool EndOtherSessions = false);

/// <summary>Another user as the directory shows them.</summary>
/// <param name="Id">The user's id.</param>
/// <param name="Username">Their username.</param>
/// <param name="DisplayName">Their display name.</param>
/// <param name="StatusText">Their status line, if any.</param>
/// <param name="AvatarUrl">Where their avatar is served, if they have one.</param>
public sealed record UserSummary(Guid Id, string Username, string DisplayName, string? StatusText, string? AvatarUrl = null);

/// <summary>One page of a list.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="Items">The items on this page.</param>
/// <param name="Page">The page number, from 1.</param>
/// <param name="PageSize">The page size asked for.</param>
/// <param name="HasMore">Whether another page follows.</param>
public sealed record PageResponse<T>(IReadOnlyList<T> Items, int Page, int PageSize, bool HasMore);
