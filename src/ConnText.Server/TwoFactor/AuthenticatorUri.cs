using QRCoder;

namespace ConnText.Server.TwoFactor;

/// <summary>
/// The <c>otpauth://</c> URI authenticator apps import (Google Authenticator's key-uri format, which every
/// common app reads) and its QR code. Identity's authenticator provider checks RFC 6238 codes with HMAC-SHA1,
/// 6 digits and 30-second steps, so the URI states exactly those.
/// </summary>
internal static class AuthenticatorUri
{
    public const string Issuer = "ConnText";

    public static string For(string username, string sharedKey) =>
        $"otpauth://totp/{Uri.EscapeDataString(Issuer)}:{Uri.EscapeDataString(username)}" +
        $"?secret={Uri.EscapeDataString(sharedKey)}&issuer={Uri.EscapeDataString(Issuer)}&digits=6&period=30";

    /// <summary>An SVG document that scales to its container (viewBox), black on white with the quiet zone scanners need.</summary>
    public static string QrCodeSvg(string uri) =>
        SvgQRCodeHelper.GetQRCode(uri, pixelsPerModule: 4, darkColorHex: "#000000", lightColorHex: "#ffffff",
            eccLevel: QRCodeGenerator.ECCLevel.M, sizingMode: SvgQRCode.SizingMode.ViewBoxAttribute);
}
