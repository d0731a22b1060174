using ConnText.Server.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.Conversations;

/// <summary>Settings under <c>ConnText:Messaging</c>.</summary>
internal sealed class MessagingOptions
{
    public const string Section = "ConnText:Messaging";

    /// <summary>The most members a group may have, its owner included.</summary>
    public int MaxGroupMembers { get; set; } = 256;

    /// <summary>The longest message text, in UTF-16 characters.</summary>
    public int MaxMessageChars { get; set; } = 16_384;
}

/// <summary>A direct conversation or a group. Every change in it is an event numbered by <see cref="LastSequence"/>.</summary>
internal sealed class Conversation
{
    public const int TitleMaxLength = 100;
    public const int TopicMaxLength = 500;

    /// <summary>Why a group's (trimmed) title cannot be stored, or null when it can.</summary>
    public static string? TitleError(string? title) =>
        string.IsNullOrEmpty(title) || title.Length > TitleMaxLength || title.Any(char.IsControl)
            ? $"A group needs a title of 1 to {TitleMaxLength} printable characters."
            : null;

    /// <summary>Why a group's (trimmed) topic cannot be stored, or null when it can (none is fine).</summary>
    public static string? TopicError(string? topic) =>
        topic is not null && (topic.Length > TopicMaxLength || topic.Contains('\0', StringComparison.Ordinal))
            ? $"A topic has at most {TopicMaxLength} characters, without NUL (U+0000)."
            : null;

    public Guid Id { get; set; }

    /// <summary><c>direct</c>, <c>group</c> or <c>peer-to-peer</c>.</summary>
    public string Kind { get; set; } = "";

    public string? Title { get; set; }

    public string? Topic { get; set; }

    /// <summary>
    /// For direct conversations, the smaller and larger of the two user ids: the unique index on the
    /// ordered pair makes "one conversation per pair" hold even under concurrent creation.
    /// </summary>
    public Guid? DirectUserLow { get; set; }

    public Guid? DirectUserHigh { get; set; }

    /// <summary>
    /// The sequence number of the latest event. Only ever incremented by <c>Messages.Sequencer</c> with one
    /// atomic UPDATE … RETURNING inside the transaction that stores the event (gapless, see the Messages folder).
    /// </summary>
    public long LastSequence { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastActivityAt { get; set; }

    /// <summary>When the group's avatar was last set (its URL's version); null without one.</summary>
    public DateTimeOffset? AvatarUpdatedAt { get; set; }
}

/// <summary>A user's membership in a conversation with their role and per-conversation state.</summary>
internal sealed class ConversationMember
{
    public Guid ConversationId { get; set; }

    public Guid UserId { get; set; }

    public User? User { get; set; }

    /// <summary><c>owner</c>, <c>admin</c> or <c>member</c>.</summary>
    public string Role { get; set; } = "";

    public DateTimeOffset JoinedAt { get; set; }

    /// <summary>Never moves backwards.</summary>
    public long LastReadSequence { get; set; }

    public bool Muted { get; set; }
}

internal sealed class ConversationConfiguration : IEntityTypeConfiguration<Conversation>
{
    public void Configure(EntityTypeBuilder<Conversation> builder)
    {
        builder.ToTable("conversations");
        builder.Property(c => c.Kind).HasMaxLength(16);
        builder.Property(c => c.Title).HasMaxLength(Conversation.TitleMaxLength);
        builder.Property(c => c.Topic).HasMaxLength(Conversation.TopicMaxLength);
        builder.HasIndex(c => new { c.DirectUserLow, c.DirectUserHigh }).IsUnique();
    }
}

internal sealed class ConversationMemberConfiguration : IEntityTypeConfiguration<ConversationMember>
{
    public void Configure(EntityTypeBuilder<ConversationMember> builder)
    {
        builder.ToTable("conversation_members");
        builder.HasKey(m => new { m.ConversationId, m.UserId });
        builder.Property(m => m.Role).HasMaxLength(16);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(m => m.ConversationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(m => m.UserId);
    }
}
