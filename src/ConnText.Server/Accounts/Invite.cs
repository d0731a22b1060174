using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.Accounts;

/// <summary>An admin-issued invite code for registration in Invite mode; only its SHA-256 is stored.</summary>
internal sealed class Invite
{
    public const int NoteMaxLength = 200;

    public Guid Id { get; set; }

    public byte[] CodeHash { get; set; } = [];

    public string Note { get; set; } = "";

    public Guid CreatedByUserId { get; set; }

    public int MaxUses { get; set; }

    public int Uses { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class InviteConfiguration : IEntityTypeConfiguration<Invite>
{
    public void Configure(EntityTypeBuilder<Invite> builder)
    {
        builder.ToTable("invites");
        builder.Property(i => i.CodeHash).HasMaxLength(32);
        builder.Property(i => i.Note).HasMaxLength(Invite.NoteMaxLength);
        builder.HasIndex(i => i.CodeHash).IsUnique();
        // Concurrent registrations with one code: the use count is the optimistic concurrency token.
        builder.Property(i => i.Uses).IsConcurrencyToken();
    }
}
