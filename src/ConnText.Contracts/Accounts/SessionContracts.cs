namespace ConnText.Contracts.Accounts;

/// <summary>One signed-in device of the current user.</summary>
/// <param name="Id">The session id (the <c>sid</c> claim of its tokens).</param>
/// <param name="DeviceName">The name the app gave its device at sign-in.</param>
/// <param name="Platform">The app's platform, e.g. <c>linux</c>.</param>
/// <param name="ClientId">The OAuth client, e.g. <c>conntext-desktop</c>.</param>
/// <param name="IpAddress">The address of the most recent token request.</param>
/// <param name="CreatedAt">When the device signed in.</param>
/// <param name="LastSeenAt">When the device last refreshed its tokens.</param>
/// <param name="ExpiresAt">When the sign-in ends at the latest.</param>
/// <param name="Current">Whether this is the session of the calling token.</param>
public sealed record SessionResponse(
    Guid Id,
    string DeviceName,
    string Platform,
    string ClientId,
    string? IpAddress,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastSeenAt,
    DateTimeOffset ExpiresAt,
    bool Current);
