using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Files;

namespace ConnText.Client.Sessions;

/// <summary>Profile, local notification settings, per-conversation settings, group administration and attachments.</summary>
public sealed partial class AccountSession
{
    private const string DoNotDisturbKey = "notifications.doNotDisturb";

    /// <summary>Raised when the account's description (its display name) changed, so the account list is saved again.</summary>
    public event EventHandler? AccountChanged;

    /// <summary>
    /// Do not disturb for this account on this device: no notifications for any of its conversations while on.
    /// Stored in the account's local store (not on the server); notification code reads it for each message.
    /// </summary>
    public bool DoNotDisturb
    {
        get => Store.Setting(DoNotDisturbKey) == "true";
        set
        {
            Store.SetSetting(DoNotDisturbKey, value ? "true" : "false");
            OnChanged();
        }
    }

    /// <summary>The user's profile as last fetched (<see cref="RefreshProfileAsync"/>), or <see langword="null"/>.</summary>
    public ProfileResponse? Profile { get; private set; }

    /// <summary>Fetches the user's profile (online only).</summary>
    public async Task<ProfileResponse> RefreshProfileAsync(CancellationToken cancellationToken)
    {
        var profile = await Api.GetMeAsync(cancellationToken);
        SetProfile(profile);
        return profile;
    }

    /// <summary>Changes the display name and/or status text (online only).</summary>
    public async Task<ProfileResponse> UpdateProfileAsync(UpdateProfileRequest request, CancellationToken cancellationToken)
    {
        var profile = await Api.UpdateProfileAsync(request, cancellationToken);
        SetProfile(profile);
        return profile;
    }

    /// <summary>Sets the avatar (online only); the server crops it to 256×256.</summary>
    public async Task SetAvatarAsync(byte[] image, string contentType, CancellationToken cancellationToken)
    {
        await Api.SetAvatarAsync(image, contentType, cancellationToken);
        await RefreshProfileAsync(cancellationToken);
    }

    /// <summary>Removes the avatar (online only).</summary>
    public async Task RemoveAvatarAsync(CancellationToken cancellationToken)
    {
        await Api.DeleteAvatarAsync(cancellationToken);
        await RefreshProfileAsync(cancellationToken);
    }

    /// <summary>Mutes or unmutes a conversation on the server (every device of the user follows it).</summary>
    public async Task SetMutedAsync(Guid conversationId, bool muted, CancellationToken cancellationToken) =>
        Updated(await Api.SetMutedAsync(conversationId, muted, cancellationToken));

    /// <summary>Changes a group's title and/or topic.</summary>
    public async Task UpdateConversationAsync(Guid conversationId, UpdateConversationRequest request, CancellationToken cancellationToken) =>
        Updated(await Api.UpdateConversationAsync(conversationId, request, cancellationToken));

    /// <summary>Adds a user to a group.</summary>
    public async Task AddMemberAsync(Guid conversationId, Guid userId, CancellationToken cancellationToken) =>
        Updated(await Api.AddMemberAsync(conversationId, userId, cancellationToken));

    /// <summary>Removes a member from a group.</summary>
    public async Task RemoveMemberAsync(Guid conversationId, Guid userId, CancellationToken cancellationToken)
    {
        await Api.RemoveMemberAsync(conversationId, userId, cancellationToken);
        Updated(await Api.GetConversationAsync(conversationId, cancellationToken));
    }

    /// <summary>Sets a member's role; <see cref="MemberRoles.Owner"/> hands ownership over.</summary>
    public async Task SetRoleAsync(Guid conversationId, Guid userId, string role, CancellationToken cancellationToken) =>
        Updated(await Api.SetRoleAsync(conversationId, userId, role, cancellationToken));

    /// <summary>Leaves a group and forgets it locally.</summary>
    public async Task LeaveAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        await Api.LeaveAsync(conversationId, cancellationToken);
        Store.RemoveConversation(conversationId);
        OnChanged();
    }

    /// <summary>Uploads a file for a message (online only), reporting the bytes the server has confirmed.</summary>
    public Task<FileResponse> UploadAsync(Stream content, long length, string name, IProgress<long>? progress, CancellationToken cancellationToken) =>
        Api.UploadAsync(content, length, name, progress, cancellationToken);

    /// <summary>
    /// Sends a message with attachments straight over REST (online only): the hub's SendMessage carries no attachments,
    /// and the files had to be uploaded online anyway. It is not queued behind the outbox, so it can overtake messages
    /// still waiting there. The client message id makes a retry after a lost reply harmless.
    /// </summary>
    public async Task<MessageResponse> SendWithAttachmentsAsync(
        Guid conversationId, string? text, Guid? replyToMessageId, IReadOnlyList<Guid> attachmentIds, CancellationToken cancellationToken)
    {
        var sent = await Api.SendMessageAsync(conversationId,
            new SendMessageRequest(Guid.NewGuid(), string.IsNullOrWhiteSpace(text) ? null : text, replyToMessageId, attachmentIds), cancellationToken);
        Store.UpsertMessage(sent);
        OnChanged();
        return sent;
    }

    private void SetProfile(ProfileResponse profile)
    {
        Profile = profile;
        if (profile.DisplayName != Account.DisplayName)
        {
            Account = Account with { DisplayName = profile.DisplayName };
            AccountChanged?.Invoke(this, EventArgs.Empty);
        }

        OnChanged();
    }

    private void Updated(ConversationResponse conversation)
    {
        // An existing conversation keeps its applied sequence: only its description (title, members, roles, mute) changes.
        Store.UpsertConversation(conversation, conversation.LastSequence);
        OnChanged();
    }
}
