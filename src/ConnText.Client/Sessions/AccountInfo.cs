using System.Text.Json.Serialization;

namespace ConnText.Client.Sessions;

/// <summary>An account this device is signed in to.</summary>
/// <param name="Id">The local id (names the account's directory).</param>
/// <param name="Server">The server's base address.</param>
/// <param name="UserId">The user's id on that server.</param>
/// <param name="Username">The username.</param>
/// <param name="DisplayName">The display name at sign-in.</param>
public sealed record AccountInfo(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("server")] Uri Server,
    [property: JsonPropertyName("userId")] Guid UserId,
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("displayName")] string DisplayName)
{
    /// <summary>How the switcher names it: user@host.</summary>
    public string Label => $"{Username}@{Server.Authority}";
}
