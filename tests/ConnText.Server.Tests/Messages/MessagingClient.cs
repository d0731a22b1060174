using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;

namespace ConnText.Server.Tests.Messages;

/// <summary>Small helpers over the conversations and messages REST API, asserting the expected status.</summary>
internal static class MessagingClient
{
    public static async Task<Guid> MyIdAsync(this HttpClient client) =>
        (await client.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!.Id;

    public static async Task<ConversationResponse> CreateGroupAsync(this HttpClient client, string title, params Guid[] members)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.Group, members, title));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ConversationResponse>())!;
    }

    public static async Task<(HttpStatusCode Status, ConversationResponse Conversation)> CreateDirectAsync(this HttpClient client, Guid other)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/conversations", new CreateConversationRequest(ConversationKinds.Direct, [other]));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<ConversationResponse>())!);
    }

    public static async Task<(HttpStatusCode Status, MessageResponse Message)> TrySendAsync(
        this HttpClient client, Guid conversationId, string text, Guid? clientMessageId = null, Guid? replyTo = null)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/messages",
            new SendMessageRequest(clientMessageId ?? Guid.NewGuid(), text, replyTo));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<MessageResponse>())!);
    }

    public static async Task<MessageResponse> SendAsync(this HttpClient client, Guid conversationId, string text)
    {
        var (status, message) = await client.TrySendAsync(conversationId, text);
        Assert.Equal(HttpStatusCode.Created, status);
        return message;
    }

    public static async Task<ConversationEventPageResponse> EventsAsync(this HttpClient client, Guid conversationId, long after, int limit = 500) =>
        (await client.GetFromJsonAsync<ConversationEventPageResponse>($"/api/v1/conversations/{conversationId}/events?after={after}&limit={limit}"))!;

    public static async Task<MessagePageResponse> HistoryAsync(this HttpClient client, Guid conversationId, string query) =>
        (await client.GetFromJsonAsync<MessagePageResponse>($"/api/v1/conversations/{conversationId}/messages?{query}"))!;

    public static async Task<MessageResponse> OkMessageAsync(this Task<HttpResponseMessage> request)
    {
        using var response = await request;
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<MessageResponse>())!;
    }

    public static string Reaction(Guid conversationId, Guid messageId, string emoji) =>
        $"/api/v1/conversations/{conversationId}/messages/{messageId}/reactions/{Uri.EscapeDataString(emoji)}";
}
