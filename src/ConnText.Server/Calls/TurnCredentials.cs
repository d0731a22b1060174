using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ConnText.Contracts.Calls;

namespace ConnText.Server.Calls;

/// <summary>
/// TURN credentials in the "TURN REST API" scheme coturn checks with <c>use-auth-secret</c>: the username is
/// <c>{unix expiry}:{userId}</c> and the password base64(HMAC-SHA1(static-auth-secret, username)). coturn
/// recomputes the password and refuses a username whose expiry passed, so the server keeps no state.
/// </summary>
internal static class TurnCredentials
{
    public static (string Username, string Password) Mint(string secret, Guid userId, DateTimeOffset expiresAt)
    {
        var username = $"{expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}:{userId:D}";
#pragma warning disable CA5350 // HMAC-SHA1 is what coturn's TURN REST scheme specifies; HMAC keeps SHA-1 collisions irrelevant
        var password = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(username)));
#pragma warning restore CA5350
        return (username, password);
    }

    public static IceServersResponse IceServers(CallsOptions options, Guid userId, DateTimeOffset now)
    {
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds((now + options.CredentialLifetime).ToUnixTimeSeconds());
        var servers = new List<IceServerResponse>();
        if (options.StunUrls.Count > 0)
        {
            servers.Add(new IceServerResponse([.. options.StunUrls]));
        }

        if (options.TurnUrls.Count > 0 && !string.IsNullOrEmpty(options.TurnSecret))
        {
            var (username, password) = Mint(options.TurnSecret, userId, expiresAt);
            servers.Add(new IceServerResponse([.. options.TurnUrls], username, password));
        }

        return new IceServersResponse(servers, expiresAt);
    }
}
