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
/// <param name="DeviceKeyFingerprint">SHA-256 of the device's registered public key (SubjectPublicKeyInfo), lowercase hex; null before it registered one.</param>
public sealed record SessionResponse(
    Guid Id,
    string DeviceName,
    string Platform,
    string ClientId,
    string? IpAddress,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastSeenAt,
    DateTimeOffset ExpiresAt,
    bool Current,
    string? DeviceKeyFingerprint = null);

/// <summary>The device key a desktop app registers for its session.</summary>
/// <param name="Certificate">The device's self-signed X.509 certificate (ECDSA P-256), DER, base64.</param>
public sealed record DeviceKeyRequest(string? Certificate);

/// <summary>The registered device key.</summary>
/// <param name="Fingerprint">SHA-256 of the public key (SubjectPublicKeyInfo), lowercase hex.</param>
public sealed record DeviceKeyResponse(string Fingerprint);
