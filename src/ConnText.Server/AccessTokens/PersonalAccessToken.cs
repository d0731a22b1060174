using ConnText.Server.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.AccessTokens;

/// <summary>
/// A personal access token for bots, scripts and tests: named, scoped, expiring, revocable.
/// Only the SHA-256 of the secret is stored (the secret has 256 bits of entropy, so a slow hash adds nothing).
/// </summary>
internal sealed class PersonalAccessToken
{
    public const int NameMaxLength = 100;

    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public User? User { get; set; }

    public string Name { get; set; } = "";

    /// <summary>The first characters of the token, shown in lists so users can tell tokens apart.</summary>
    public string Prefix { get; set; } = "";

    public byte[] SecretHash { get; set; } = [];

    /// <summary>Space-separated scopes: <c>read</c>, <c>write</c>, <c>admin</c>.</summary>
    public string Scopes { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class PersonalAccessTokenConfiguration : IEntityTypeConfiguration<PersonalAccessToken>
{
    public void Configure(EntityTypeBuilder<PersonalAccessToken> builder)
    {
        builder.ToTable("personal_access_tokens");
        builder.Property(t => t.Name).HasMaxLength(PersonalAccessToken.NameMaxLength);
        builder.Property(t => t.Prefix).HasMaxLength(16);
        builder.Property(t => t.SecretHash).HasMaxLength(32);
        builder.Property(t => t.Scopes).HasMaxLength(100);
        builder.HasIndex(t => t.SecretHash).IsUnique();
        builder.HasIndex(t => t.UserId);
        builder.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
