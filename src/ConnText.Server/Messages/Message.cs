using ConnText.Server.Conversations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.Messages;

/// <summary>A text or system message; deleting it leaves a tombstone (no text, <see cref="DeletedAt"/> set).</summary>
internal sealed class Message
{
    public const int EmojiMaxLength = 32;

    public Guid Id { get; set; }

    public Guid ConversationId { get; set; }

    /// <summary>The sequence of the event that created the message.</summary>
    public long Sequence { get; set; }

    /// <summary><c>text</c> or <c>system</c>.</summary>
    public string Kind { get; set; } = "";

    public Guid SenderId { get; set; }

    /// <summary>The sender's idempotency key; unique per (conversation, sender). Null for system messages.</summary>
    public Guid? ClientMessageId { get; set; }

    public string? Text { get; set; }

    public Guid? ReplyToMessageId { get; set; }

    /// <summary>For system messages: <c>member.joined</c>, <c>member.left</c> or <c>call.ended</c>.</summary>
    public string? SystemEvent { get; set; }

    /// <summary>For <c>call.ended</c> system messages: the call (its reason and duration are read from it).</summary>
    public Guid? CallId { get; set; }

    public Guid? SubjectUserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? EditedAt { get; set; }

    public DateTimeOffset? DeletedAt { get; set; }

    // Whether the message has reactions, mentions or attachments, stored with it so that a history page reads no other
    // table for the messages that have none (most of them). Every change to those rows happens under the
    // conversation's write lock (the sequence is taken first), which sets these in the same transaction. A row removed
    // by a cascade from elsewhere (a deleted file) may leave a flag true: that costs one empty look-up, never data.
    public bool HasReactions { get; set; }

    public bool HasMentions { get; set; }

    public bool HasAttachments { get; set; }
}

/// <summary>One member's reaction with one emoji to one message.</summary>
internal sealed class MessageReaction
{
    public Guid MessageId { get; set; }

    public Guid UserId { get; set; }

    public string Emoji { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// One sequenced change in a conversation: the log a client replays after being away
/// (<c>GET /conversations/{id}/events?after=</c>). (ConversationId, Sequence) is the key, so a sequence can never be used twice.
/// </summary>
internal sealed class ConversationEvent
{
    public Guid ConversationId { get; set; }

    public long Sequence { get; set; }

    public string Kind { get; set; } = "";

    public Guid ActorId { get; set; }

    public Guid? MessageId { get; set; }

    public string? Emoji { get; set; }

    public Guid? SubjectUserId { get; set; }

    /// <summary>For member.role_changed: the new role.</summary>
    public string? Role { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> builder)
    {
        builder.ToTable("messages");
        builder.Property(m => m.Kind).HasMaxLength(16);
        builder.Property(m => m.SystemEvent).HasMaxLength(32);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(m => m.ConversationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(m => new { m.ConversationId, m.Sequence }).IsUnique();
        // Idempotent sends: a retried clientMessageId can never be stored twice (NULLs, i.e. system messages, are distinct).
        builder.HasIndex(m => new { m.ConversationId, m.SenderId, m.ClientMessageId }).IsUnique();
    }
}

internal sealed class MessageReactionConfiguration : IEntityTypeConfiguration<MessageReaction>
{
    public void Configure(EntityTypeBuilder<MessageReaction> builder)
    {
        builder.ToTable("message_reactions");
        builder.HasKey(r => new { r.MessageId, r.UserId, r.Emoji });
        builder.Property(r => r.Emoji).HasMaxLength(Message.EmojiMaxLength);
        builder.HasOne<Message>().WithMany().HasForeignKey(r => r.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ConversationEventConfiguration : IEntityTypeConfiguration<ConversationEvent>
{
    public void Configure(EntityTypeBuilder<ConversationEvent> builder)
    {
        builder.ToTable("conversation_events");
        builder.HasKey(e => new { e.ConversationId, e.Sequence });
        builder.Property(e => e.Kind).HasMaxLength(32);
        builder.Property(e => e.Emoji).HasMaxLength(Message.EmojiMaxLength);
        builder.Property(e => e.Role).HasMaxLength(16);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(e => e.ConversationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(e => e.MessageId);
    }
}
