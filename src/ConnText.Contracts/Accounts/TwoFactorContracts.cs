namespace ConnText.Contracts.Accounts;

/// <summary>Whether the current user signs in with a second factor (an authenticator app).</summary>
/// <param name="Enabled">True when sign-in asks for a code from the authenticator app after the password.</param>
/// <param name="RecoveryCodesLeft">Unused recovery codes; 0 when two-factor sign-in is off.</param>
public sealed record TwoFactorStatusResponse(bool Enabled, int RecoveryCodesLeft);

/// <summary>
/// A new authenticator secret (RFC 6238 TOTP: HMAC-SHA1, 6 digits, 30 seconds). Nothing changes for sign-in
/// until the secret is confirmed with a code from the app (<c>POST /api/v1/me/two-factor/enable</c>).
/// </summary>
/// <param name="SharedKey">The secret in base32, for typing into an authenticator app by hand.</param>
/// <param name="AuthenticatorUri">The <c>otpauth://totp/...</c> URI that authenticator apps read from the QR code.</param>
/// <param name="QrCodeSvg">A QR code of <paramref name="AuthenticatorUri"/> as an SVG document.</param>
public sealed record TwoFactorSetupResponse(string SharedKey, string AuthenticatorUri, string QrCodeSvg);

/// <summary>A code that proves the caller holds the second factor.</summary>
/// <param name="Code">
/// The 6-digit code the authenticator app shows (spaces allowed). Where the endpoint says so, a recovery code
/// (<c>XXXXX-XXXXX</c>) is accepted instead; it is used up.
/// </param>
public sealed record TwoFactorCodeRequest(string? Code);

/// <summary>New recovery codes. They are shown only this once: each signs in once in place of an authenticator code.</summary>
/// <param name="RecoveryCodes">The codes; earlier recovery codes no longer work.</param>
public sealed record TwoFactorRecoveryCodesResponse(IReadOnlyList<string> RecoveryCodes);
