using System.Net.Http.Headers;
using ConnText.Contracts.Accounts;

namespace ConnText.Client.Api;

/// <summary>Profile, avatar and signed-in sessions.</summary>
public sealed partial class ConnTextApi
{
    /// <summary>Changes the display name and/or status text (a null field stays, an empty status clears it).</summary>
    public Task<ProfileResponse> UpdateProfileAsync(UpdateProfileRequest request, CancellationToken cancellationToken) =>
        SendAsync<ProfileResponse>(HttpMethod.Patch, "me", request, cancellationToken);

    /// <summary>Sets the avatar from an image (PNG, JPEG, GIF, WebP or BMP, at most 5 MiB); the server crops it to 256×256.</summary>
    public async Task SetAvatarAsync(byte[] image, string contentType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri("me/avatar", UriKind.Relative)) { Content = new ByteArrayContent(image) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Removes the avatar.</summary>
    public Task DeleteAvatarAsync(CancellationToken cancellationToken) => DeleteAsync("me/avatar", cancellationToken);

    /// <summary>
    /// A user's avatar (a 256×256 PNG) as the server answers it: 200 with the image, 304 when
    /// <paramref name="ifNoneMatch"/> still matches, 404 when the user has none. The caller disposes the response.
    /// </summary>
    public async Task<HttpResponseMessage> GetAvatarAsync(Guid userId, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"users/{userId}/avatar", UriKind.Relative));
        if (!string.IsNullOrEmpty(ifNoneMatch))
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>The user's signed-in devices, the current one marked.</summary>
    public Task<List<SessionResponse>> ListSessionsAsync(CancellationToken cancellationToken) =>
        GetAsync<List<SessionResponse>>("sessions", cancellationToken);

    /// <summary>Signs one device out (revokes its session and tokens).</summary>
    public Task RevokeSessionAsync(Guid sessionId, CancellationToken cancellationToken) => DeleteAsync($"sessions/{sessionId}", cancellationToken);

    /// <summary>Signs out every device but this one.</summary>
    public async Task RevokeOtherSessionsAsync(CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri("sessions/revoke-others", UriKind.Relative), null, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    private async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await http.DeleteAsync(new Uri(path, UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }
}
