using ConnText.Contracts.Calls;
using ConnText.Server.Conversations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.Calls;

/// <summary>
/// A call in a conversation. The database row is the authority for its state (several nodes may serve its
/// participants): every transition is a conditional UPDATE on the expected state, so exactly one of two
/// racing transitions applies.
/// </summary>
internal sealed class Call
{
    public Guid Id { get; set; }

    public Guid ConversationId { get; set; }

    public bool IsGroup { get; set; }

    /// <summary><see cref="CallMedia"/>.</summary>
    public string Media { get; set; } = "";

    public Guid InitiatorId { get; set; }

    /// <summary><see cref="CallStates"/>. At most one call per conversation is not ended (a filtered unique index).</summary>
    public string State { get; set; } = "";

    /// <summary><see cref="CallEndReasons"/>.</summary>
    public string? EndReason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset RingDeadline { get; set; }

    public DateTimeOffset? AnsweredAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }
}

/// <summary>A user rung by or taking part in a call, with the one device they take part with.</summary>
internal sealed class CallParticipant
{
    public Guid CallId { get; set; }

    public Guid UserId { get; set; }

    /// <summary><see cref="CallParticipantStates"/>. A user is <c>joined</c> in at most one call (a filtered unique index): that is "busy".</summary>
    public string State { get; set; } = "";

    /// <summary>The hub device (see <see cref="CallDevices"/>) that answered or joined.</summary>
    public string? DeviceId { get; set; }

    public DateTimeOffset? JoinedAt { get; set; }

    public DateTimeOffset? LeftAt { get; set; }

    /// <summary>Set when the joined device's last connection closed; cleared when it reconnects. The sweeper drops it after the grace period.</summary>
    public DateTimeOffset? DisconnectedAt { get; set; }
}

internal sealed class CallConfiguration : IEntityTypeConfiguration<Call>
{
    public void Configure(EntityTypeBuilder<Call> builder)
    {
        builder.ToTable("calls");
        builder.Property(c => c.Media).HasMaxLength(16);
        builder.Property(c => c.State).HasMaxLength(16);
        builder.Property(c => c.EndReason).HasMaxLength(16);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(c => c.ConversationId).OnDelete(DeleteBehavior.Cascade);
        // Glare (both sides call at once) gives one call: the second insert violates this index and joins the first call.
        // The same SQL works on SQLite and PostgreSQL (quoted identifiers, a string literal).
        builder.HasIndex(c => c.ConversationId).IsUnique().HasFilter("\"State\" <> 'ended'").HasDatabaseName("IX_calls_live_per_conversation");
        builder.HasIndex(c => new { c.ConversationId, c.CreatedAt });
        builder.HasIndex(c => new { c.State, c.RingDeadline });
    }
}

internal sealed class CallParticipantConfiguration : IEntityTypeConfiguration<CallParticipant>
{
    public void Configure(EntityTypeBuilder<CallParticipant> builder)
    {
        builder.ToTable("call_participants");
        builder.HasKey(p => new { p.CallId, p.UserId });
        builder.Property(p => p.State).HasMaxLength(16);
        builder.Property(p => p.DeviceId).HasMaxLength(64);
        builder.HasOne<Call>().WithMany().HasForeignKey(p => p.CallId).OnDelete(DeleteBehavior.Cascade);
        // "Busy" is decided by the database: a second joined row of one user, from any node, fails this index.
        builder.HasIndex(p => p.UserId).IsUnique().HasFilter("\"State\" = 'joined'").HasDatabaseName("IX_call_participants_joined_per_user");
        builder.HasIndex(p => p.DeviceId);
    }
}
