using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.Accounts;

/// <summary>An account. Identity's <c>NormalizedUserName</c> (unique) makes usernames case-insensitive.</summary>
internal sealed class User : IdentityUser<Guid>
{
    public const int DisplayNameMaxLength = 64;
    public const int StatusTextMaxLength = 140;

    public string DisplayName { get; set; } = "";

    public string? StatusText { get; set; }

    public bool IsDisabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the avatar was last set; null without one. Also its version in URLs and ETags.</summary>
    public DateTimeOffset? AvatarUpdatedAt { get; set; }

    /// <summary>Others see this user offline, with no last-seen time.</summary>
    public bool HidePresence { get; set; }

    /// <summary>When the user's last hub connection went away.</summary>
    public DateTimeOffset? LastSeenAt { get; set; }
}

internal sealed class Role : IdentityRole<Guid>
{
    public const string Admin = "admin";
}

internal sealed class IdentityTablesConfiguration :
    IEntityTypeConfiguration<Role>,
    IEntityTypeConfiguration<IdentityUserRole<Guid>>,
    IEntityTypeConfiguration<IdentityUserClaim<Guid>>,
    IEntityTypeConfiguration<IdentityUserLogin<Guid>>,
    IEntityTypeConfiguration<IdentityUserToken<Guid>>,
    IEntityTypeConfiguration<IdentityRoleClaim<Guid>>
{
    public void Configure(EntityTypeBuilder<Role> builder) => builder.ToTable("roles");

    public void Configure(EntityTypeBuilder<IdentityUserRole<Guid>> builder) => builder.ToTable("user_roles");

    public void Configure(EntityTypeBuilder<IdentityUserClaim<Guid>> builder) => builder.ToTable("user_claims");

    public void Configure(EntityTypeBuilder<IdentityUserLogin<Guid>> builder) => builder.ToTable("user_logins");

    public void Configure(EntityTypeBuilder<IdentityUserToken<Guid>> builder) => builder.ToTable("user_tokens");

    public void Configure(EntityTypeBuilder<IdentityRoleClaim<Guid>> builder) => builder.ToTable("role_claims");
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users");
        builder.Property(u => u.UserName).HasMaxLength(AccountRules.UsernameMaxLength);
        builder.Property(u => u.NormalizedUserName).HasMaxLength(AccountRules.UsernameMaxLength);
        builder.Property(u => u.DisplayName).HasMaxLength(User.DisplayNameMaxLength);
        builder.Property(u => u.StatusText).HasMaxLength(User.StatusTextMaxLength);
    }
}
