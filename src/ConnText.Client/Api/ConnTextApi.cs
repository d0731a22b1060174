using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using ConnText.Client.Auth;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Calls;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Realtime;

namespace ConnText.Client.Api;

/// <summary>Typed client of the server's REST API (<c>/api/v1</c>) for one account.</summary>
public sealed partial class ConnTextApi : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient http;

    /// <summary>Creates a client of <paramref name="server"/> that authenticates with <paramref name="tokens"/>.</summary>
    public ConnTextApi(Uri server, TokenKeeper tokens, HttpMessageHandler? transport = null)
    {
#pragma warning disable CA2000 // the HttpClient owns and disposes the handler chain
        var handler = new BearerHandler(tokens) { InnerHandler = transport ?? new SocketsHttpHandler() };
        http = new HttpClient(handler) { BaseAddress = new Uri(server, "/api/v1/"), Timeout = TimeSpan.FromSeconds(30) };
#pragma warning restore CA2000
    }

    /// <summary>The signed-in user's profile.</summary>
    public Task<ProfileResponse> GetMeAsync(CancellationToken cancellationToken) =>
        GetAsync<ProfileResponse>("me", cancellationToken);

    /// <summary>A page of the user's conversations, most recently active first.</summary>
    public Task<ConversationPageResponse> ListConversationsAsync(int page, int pageSize, CancellationToken cancellationToken) =>
        GetAsync<ConversationPageResponse>(string.Create(CultureInfo.InvariantCulture, $"conversations?page={page}&pageSize={pageSize}"), cancellationToken);

    /// <summary>One conversation.</summary>
    public Task<ConversationResponse> GetConversationAsync(Guid conversationId, CancellationToken cancellationToken) =>
        GetAsync<ConversationResponse>($"conversations/{conversationId}", cancellationToken);

    /// <summary>Creates a direct or group conversation.</summary>
    public Task<ConversationResponse> CreateConversationAsync(CreateConversationRequest request, CancellationToken cancellationToken) =>
        SendAsync<ConversationResponse>(HttpMethod.Post, "conversations", request, cancellationToken);

    /// <summary>Messages before <paramref name="beforeSequence"/> (the newest when <see langword="null"/>), oldest first.</summary>
    public Task<MessagePageResponse> HistoryAsync(Guid conversationId, long? beforeSequence, int limit, CancellationToken cancellationToken) =>
        GetAsync<MessagePageResponse>(
            string.Create(CultureInfo.InvariantCulture, $"conversations/{conversationId}/messages?limit={limit}") +
            (beforeSequence is { } b ? string.Create(CultureInfo.InvariantCulture, $"&before={b}") : ""),
            cancellationToken);

    /// <summary>Events after a sequence (what the hub's Sync returns).</summary>
    public Task<ConversationEventPageResponse> EventsAsync(Guid conversationId, long afterSequence, CancellationToken cancellationToken) =>
        GetAsync<ConversationEventPageResponse>(string.Create(CultureInfo.InvariantCulture, $"conversations/{conversationId}/events?after={afterSequence}"), cancellationToken);

    /// <summary>Sends a message; a retry with the same client message id returns the stored one.</summary>
    public Task<MessageResponse> SendMessageAsync(Guid conversationId, SendMessageRequest request, CancellationToken cancellationToken) =>
        SendAsync<MessageResponse>(HttpMethod.Post, $"conversations/{conversationId}/messages", request, cancellationToken);

    /// <summary>Edits one of the user's messages.</summary>
    public Task<MessageResponse> EditMessageAsync(Guid conversationId, Guid messageId, string text, CancellationToken cancellationToken) =>
        SendAsync<MessageResponse>(HttpMethod.Patch, $"conversations/{conversationId}/messages/{messageId}", new EditMessageRequest(text), cancellationToken);

    /// <summary>Deletes a message.</summary>
    public async Task DeleteMessageAsync(Guid conversationId, Guid messageId, CancellationToken cancellationToken)
    {
        using var response = await http.DeleteAsync(new Uri($"conversations/{conversationId}/messages/{messageId}", UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Adds (<paramref name="add"/>) or removes the user's reaction.</summary>
    public async Task ReactAsync(Guid conversationId, Guid messageId, string emoji, bool add, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(add ? HttpMethod.Put : HttpMethod.Delete,
            new Uri($"conversations/{conversationId}/messages/{messageId}/reactions/{Uri.EscapeDataString(emoji)}", UriKind.Relative));
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Moves the user's read marker forward to <paramref name="sequence"/>.</summary>
    public Task<ReadStateResponse> MarkReadAsync(Guid conversationId, long sequence, CancellationToken cancellationToken) =>
        SendAsync<ReadStateResponse>(HttpMethod.Post, $"conversations/{conversationId}/read", new MarkReadRequest(sequence), cancellationToken);

    /// <summary>Registers this device's certificate for the session of these tokens; returns the key's fingerprint.</summary>
    public Task<DeviceKeyResponse> RegisterDeviceKeyAsync(ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken) =>
        SendAsync<DeviceKeyResponse>(HttpMethod.Put, "sessions/current/device-key", new DeviceKeyRequest(Convert.ToBase64String(certificate.Span)), cancellationToken);

    /// <summary>The presence of up to 100 users the user shares a conversation with.</summary>
    public Task<IReadOnlyList<PresenceResponse>> GetPresenceAsync(IEnumerable<Guid> userIds, CancellationToken cancellationToken) =>
        GetAsync<IReadOnlyList<PresenceResponse>>("presence?" + string.Join('&', userIds.Select(id => $"userId={id}")), cancellationToken);

    /// <summary>Searches the user directory by username or display name prefix.</summary>
    public Task<PageResponse<UserSummary>> SearchUsersAsync(string query, CancellationToken cancellationToken) =>
        GetAsync<PageResponse<UserSummary>>("users?q=" + Uri.EscapeDataString(query), cancellationToken);

    /// <summary>STUN/TURN servers for calls, with short-lived TURN credentials.</summary>
    public Task<IceServersResponse> GetIceServersAsync(CancellationToken cancellationToken) =>
        GetAsync<IceServersResponse>("calls/ice-servers", cancellationToken);

    /// <inheritdoc/>
    public void Dispose() => http.Dispose();

    private async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative))
        {
            // Buffered, so the bearer handler can send it again after a refresh.
            Content = new StringContent(JsonSerializer.Serialize(body, Json), System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string? type = null, detail = null;
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            type = problem.TryGetProperty("type", out var t) ? t.GetString() : null;
            detail = problem.TryGetProperty("detail", out var d) ? d.GetString() : problem.TryGetProperty("title", out var ti) ? ti.GetString() : null;
            if (problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                // A validation problem says what was wrong in "errors"; the title alone ("... is not valid") does not.
                var reasons = errors.EnumerateObject().SelectMany(e => e.Value.ValueKind == JsonValueKind.Array ? e.Value.EnumerateArray() : [])
                    .Select(r => r.GetString()).Where(r => !string.IsNullOrEmpty(r)).ToList();
                if (reasons.Count > 0)
                {
                    detail = (detail is null ? "" : detail.TrimEnd('.') + ": ") + string.Join(" ", reasons);
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's page): the status says enough.
        }

        throw new ApiException((int)response.StatusCode, type, detail ?? response.ReasonPhrase ?? "The request failed.");
    }
}

/// <summary>The server refused a request with an RFC 9457 problem.</summary>
public sealed class ApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ApiException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ApiException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a problem response.</summary>
    public ApiException(int status, string? type, string detail)
        : base(detail)
    {
        Status = status;
        ProblemType = type;
    }

    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>The stable problem type (<c>urn:conntext:problem:*</c>), when the server gave one.</summary>
    public string? ProblemType { get; }
}
