using System.Text.Json.Serialization;

namespace ConnText.Client.Auth;

/// <summary>The OAuth tokens of one signed-in account.</summary>
/// <param name="AccessToken">The bearer token for the API and the hub.</param>
/// <param name="RefreshToken">The refresh token; the server rotates it on every use.</param>
/// <param name="ExpiresAt">When <paramref name="AccessToken"/> expires.</param>
public sealed record TokenSet(
    [property: JsonPropertyName("accessToken")] string AccessToken,
    [property: JsonPropertyName("refreshToken")] string? RefreshToken,
    [property: JsonPropertyName("expiresAt")] DateTimeOffset ExpiresAt)
{
    /// <inheritdoc/>
    public override string ToString() => $"TokenSet(expires {ExpiresAt:O})"; // never the tokens themselves
}
