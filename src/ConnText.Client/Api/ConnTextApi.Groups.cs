using ConnText.Contracts.Conversations;

namespace ConnText.Client.Api;

/// <summary>Per-conversation settings and group administration.</summary>
public sealed partial class ConnTextApi
{
    /// <summary>Mutes or unmutes a conversation for the user.</summary>
    public Task<ConversationResponse> SetMutedAsync(Guid conversationId, bool muted, CancellationToken cancellationToken) =>
        SendAsync<ConversationResponse>(HttpMethod.Put, $"conversations/{conversationId}/settings", new UpdateMySettingsRequest(muted), cancellationToken);

    /// <summary>Changes a group's title and/or topic (owner and admins).</summary>
    public Task<ConversationResponse> UpdateConversationAsync(Guid conversationId, UpdateConversationRequest request, CancellationToken cancellationToken) =>
        SendAsync<ConversationResponse>(HttpMethod.Patch, $"conversations/{conversationId}", request, cancellationToken);

    /// <summary>Adds a user to a group (owner and admins).</summary>
    public Task<ConversationResponse> AddMemberAsync(Guid conversationId, Guid userId, CancellationToken cancellationToken) =>
        SendAsync<ConversationResponse>(HttpMethod.Post, $"conversations/{conversationId}/members", new AddMemberRequest(userId), cancellationToken);

    /// <summary>Removes a member from a group (the owner removes anyone else, an admin removes members).</summary>
    public Task RemoveMemberAsync(Guid conversationId, Guid userId, CancellationToken cancellationToken) =>
        DeleteAsync($"conversations/{conversationId}/members/{userId}", cancellationToken);

    /// <summary>Leaves a group (an owner's ownership passes to an admin, else the longest-standing member).</summary>
    public async Task LeaveAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri($"conversations/{conversationId}/leave", UriKind.Relative), null, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Sets a member's role (owner only); <c>owner</c> hands ownership over and makes the caller an admin.</summary>
    public Task<ConversationResponse> SetRoleAsync(Guid conversationId, Guid userId, string role, CancellationToken cancellationToken) =>
        SendAsync<ConversationResponse>(HttpMethod.Put, $"conversations/{conversationId}/members/{userId}/role", new SetMemberRoleRequest(role), cancellationToken);
}
