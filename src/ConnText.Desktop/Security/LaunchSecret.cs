using System.Security.Cryptography;
using System.Text;

namespace ConnText.Desktop.Security;

/// <summary>
/// The per-launch secret (256 bits) in the URL the window opens, and the cookie value it is exchanged for. The
/// cookie is a different random value, so the secret that passed through a command line and the browser's history
/// is not itself what authorizes requests afterwards.
/// </summary>
internal sealed class LaunchSecret
{
    public const string CookieName = "conntext-ui";
    public const string AuthPath = "/auth";

    public string Secret { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public string CookieValue { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static bool Matches(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(given), Encoding.ASCII.GetBytes(expected));

    /// <summary>The URL that opens the UI on <paramref name="port"/>.</summary>
    public string LaunchUrl(int port) => $"http://127.0.0.1:{port}{AuthPath}?s={Secret}";
}
