namespace ConnText.Contracts.Conversations;

/// <summary>The kinds of conversation.</summary>
public static class ConversationKinds
{
    /// <summary>Exactly one per pair of users.</summary>
    public const string Direct = "direct";

    /// <summary>A titled conversation with members in roles.</summary>
    public const string Group = "group";

    /// <summary>
    /// Two people whose messages go device to device over data channels and are stored only on their devices: the
    /// server keeps the members (for signaling) and refuses messages. One per pair of users.
    /// </summary>
    public const string PeerToPeer = "peer-to-peer";
}

/// <summary>The roles of a group member.</summary>
public static class MemberRoles
{
    /// <summary>Created the group; manages members and admins.</summary>
    public const string Owner = "owner";

    /// <summary>Manages members.</summary>
    public const string Admin = "admin";

    /// <summary>Reads and writes.</summary>
    public const string Member = "member";
}

/// <summary>Creates a direct conversation or a group.</summary>
/// <param name="Kind"><c>direct</c>, <c>group</c>, or <c>peer-to-peer</c> (a direct conversation whose messages go device to device, never through the server).</param>
/// <param name="MemberIds">For <c>direct</c>: exactly the other user's id. For <c>group</c>: the initial members besides the creator.</param>
/// <param name="Title">The group's title, 1 to 100 characters; not allowed for direct conversations.</param>
/// <param name="Topic">The group's topic, up to 500 characters.</param>
public sealed record CreateConversationRequest(string? Kind, IReadOnlyList<Guid>? MemberIds, string? Title = null, string? Topic = null);

/// <summary>Adds a user to a group.</summary>
/// <param name="UserId">The user to add.</param>
public sealed record AddMemberRequest(Guid UserId);

/// <summary>A member's new role: <c>admin</c>, <c>member</c>, or <c>owner</c> (hands ownership over; the old owner becomes an admin).</summary>
public sealed record SetMemberRoleRequest(string? Role);

/// <summary>New title and/or topic of a group; an omitted (null) field stays, an empty topic clears it.</summary>
public sealed record UpdateConversationRequest(string? Title = null, string? Topic = null);

/// <summary>Changes my own settings for one conversation.</summary>
/// <param name="Muted">Whether notifications are muted.</param>
public sealed record UpdateMySettingsRequest(bool Muted);

/// <summary>One member of a conversation.</summary>
/// <param name="UserId">The member's user id.</param>
/// <param name="Username">The member's username.</param>
/// <param name="DisplayName">The member's display name.</param>
/// <param name="Role"><c>owner</c>, <c>admin</c> or <c>member</c>.</param>
/// <param name="JoinedAt">When the member joined.</param>
/// <param name="LastReadSequence">The member's last read sequence ("seen by").</param>
public sealed record ConversationMemberResponse(
    Guid UserId, string Username, string DisplayName, string Role, DateTimeOffset JoinedAt, long LastReadSequence);

/// <summary>A conversation as its member sees it.</summary>
/// <param name="Id">The conversation id.</param>
/// <param name="Kind"><c>direct</c>, <c>group</c>, or <c>peer-to-peer</c> (a direct conversation whose messages go device to device, never through the server).</param>
/// <param name="Title">The group's title; null for direct conversations.</param>
/// <param name="Topic">The group's topic.</param>
/// <param name="CreatedAt">When the conversation was created.</param>
/// <param name="LastActivityAt">When the last event happened (or creation).</param>
/// <param name="LastSequence">The sequence number of the latest event; 0 when there is none yet.</param>
/// <param name="Members">The members.</param>
/// <param name="LastMessage">The latest message, if any (a deleted one appears as a tombstone).</param>
/// <param name="UnreadCount">Messages after my last read sequence not sent by me and not deleted.</param>
/// <param name="LastReadSequence">My last read sequence.</param>
/// <param name="Muted">Whether I muted this conversation.</param>
/// <param name="MyRole">My role.</param>
/// <param name="AvatarUrl">The group's avatar (a 256×256 PNG, for members), versioned; null without one.</param>
public sealed record ConversationResponse(
    Guid Id,
    string Kind,
    string? Title,
    string? Topic,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastActivityAt,
    long LastSequence,
    IReadOnlyList<ConversationMemberResponse> Members,
    MessageResponse? LastMessage,
    int UnreadCount,
    long LastReadSequence,
    bool Muted,
    string MyRole,
    string? AvatarUrl = null);

/// <summary>One page of my conversations, most recent activity first.</summary>
/// <param name="Items">The conversations on this page.</param>
/// <param name="Page">The page number, from 1.</param>
/// <param name="PageSize">The page size (1 to 100).</param>
/// <param name="HasMore">Whether a next page exists.</param>
public sealed record ConversationPageResponse(IReadOnlyList<ConversationResponse> Items, int Page, int PageSize, bool HasMore);
