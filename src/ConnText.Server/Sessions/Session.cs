using ConnText.Server.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.Sessions;

/// <summary>
/// One login of one device: created when the user signs in through the authorization endpoint,
/// carried in every token as the <c>sid</c> claim, ended by logout or revocation.
/// </summary>
internal sealed class Session
{
    public const int DeviceNameMaxLength = 100;
    public const int PlatformMaxLength = 50;

    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public User? User { get; set; }

    public string DeviceName { get; set; } = "";

    public string Platform { get; set; } = "";

    /// <summary>The OAuth client the session was created for (e.g. the desktop app).</summary>
    public string ClientId { get; set; } = "";

    public string? IpAddress { get; set; }

    /// <summary>The device's public key (PEM), registered by the desktop app; slot filled by the device identity work.</summary>
    public string? DevicePublicKey { get; set; }

    /// <summary>The OpenIddict authorization whose tokens belong to this session.</summary>
    public string? AuthorizationId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> builder)
    {
        builder.ToTable("sessions");
        builder.Property(s => s.DeviceName).HasMaxLength(Session.DeviceNameMaxLength);
        builder.Property(s => s.Platform).HasMaxLength(Session.PlatformMaxLength);
        builder.Property(s => s.ClientId).HasMaxLength(100);
        builder.Property(s => s.IpAddress).HasMaxLength(45);
        builder.Property(s => s.DevicePublicKey).HasMaxLength(4096);
        builder.Property(s => s.AuthorizationId).HasMaxLength(100);
        builder.HasOne(s => s.User).WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(s => new { s.UserId, s.RevokedAt });
    }
}
