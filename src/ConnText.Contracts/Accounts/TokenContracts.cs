namespace ConnText.Contracts.Accounts;

/// <summary>Creates a personal access token for a bot or script.</summary>
/// <param name="Name">What the token is for, 1 to 100 characters, e.g. "deploy bot".</param>
/// <param name="Scopes">Any of <c>read</c>, <c>write</c>, <c>admin</c> (admin only for admins).</param>
/// <param name="ExpiresInDays">1 to 365 days; default 30.</param>
public sealed record CreatePersonalAccessTokenRequest(string? Name, IReadOnlyList<string>? Scopes, int? ExpiresInDays = null);

/// <summary>A personal access token as listed (never with its secret).</summary>
/// <param name="Id">The token's id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Prefix">The first characters of the secret, to recognise it.</param>
/// <param name="Scopes">Granted scopes.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="ExpiresAt">When it stops working.</param>
/// <param name="LastUsedAt">When it was last used (written at most every few minutes, <c>ConnText:AccessTokens:LastUsedWriteIntervalMinutes</c>), if ever.</param>
public sealed record PersonalAccessTokenResponse(
    Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? LastUsedAt);

/// <summary>A newly created token: the secret is in this response only.</summary>
/// <param name="Token">The secret, <c>ctp_…</c>; send it as <c>Authorization: Bearer ctp_…</c>.</param>
/// <param name="Details">The token's description.</param>
public sealed record CreatedPersonalAccessTokenResponse(string Token, PersonalAccessTokenResponse Details);
