using ConnText.Server.Accounts;
using ConnText.Server.Messages;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnText.Server.Files;

/// <summary>
/// A finished file: metadata here, bytes in the content-addressed store under its <see cref="Sha256"/>
/// (identical content is stored once however often it is uploaded).
/// </summary>
internal sealed class StoredFile
{
    public const int NameMaxLength = 255;

    /// <summary>Random (v4): ids are never derived from time or order, so they cannot be guessed.</summary>
    public Guid Id { get; set; }

    public Guid UploaderId { get; set; }

    public string Name { get; set; } = "";

    public long Size { get; set; }

    public string ContentType { get; set; } = "";

    /// <summary>Lowercase hex; names the blob in the content store.</summary>
    public string Sha256 { get; set; } = "";

    public int? Width { get; set; }

    public int? Height { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the last message referencing the file was deleted; the grace period runs from here (or from creation).</summary>
    public DateTimeOffset? DetachedAt { get; set; }
}

/// <summary>An upload in progress (tus), its bytes in <c>{DataDirectory}/files/uploads/{Id}.part</c>.</summary>
internal sealed class FileUpload
{
    public Guid Id { get; set; }

    public Guid UploaderId { get; set; }

    /// <summary>The declared total size (tus <c>Upload-Length</c>); counts against the quota until finished.</summary>
    public long Length { get; set; }

    /// <summary>The bytes stored and acknowledged so far (tus <c>Upload-Offset</c>).</summary>
    public long Offset { get; set; }

    public string Name { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Set once complete: the stored file. The row stays until it expires so a late HEAD still answers.</summary>
    public Guid? FileId { get; set; }
}

/// <summary>A file attached to a message, in the order the sender gave.</summary>
internal sealed class MessageAttachment
{
    public Guid MessageId { get; set; }

    public Guid FileId { get; set; }

    public int Position { get; set; }
}

internal sealed class StoredFileConfiguration : IEntityTypeConfiguration<StoredFile>
{
    public void Configure(EntityTypeBuilder<StoredFile> builder)
    {
        builder.ToTable("files");
        builder.Property(f => f.Name).HasMaxLength(StoredFile.NameMaxLength);
        builder.Property(f => f.ContentType).HasMaxLength(100);
        builder.Property(f => f.Sha256).HasMaxLength(64);
        builder.HasOne<User>().WithMany().HasForeignKey(f => f.UploaderId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(f => f.Sha256);
        builder.HasIndex(f => f.UploaderId);
    }
}

internal sealed class FileUploadConfiguration : IEntityTypeConfiguration<FileUpload>
{
    public void Configure(EntityTypeBuilder<FileUpload> builder)
    {
        builder.ToTable("file_uploads");
        builder.Property(u => u.Name).HasMaxLength(StoredFile.NameMaxLength);
        builder.HasOne<User>().WithMany().HasForeignKey(u => u.UploaderId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(u => u.UploaderId);
        builder.HasIndex(u => u.ExpiresAt);
    }
}

internal sealed class MessageAttachmentConfiguration : IEntityTypeConfiguration<MessageAttachment>
{
    public void Configure(EntityTypeBuilder<MessageAttachment> builder)
    {
        builder.ToTable("message_attachments");
        builder.HasKey(a => new { a.MessageId, a.FileId });
        builder.HasOne<Message>().WithMany().HasForeignKey(a => a.MessageId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<StoredFile>().WithMany().HasForeignKey(a => a.FileId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(a => a.FileId);
    }
}
