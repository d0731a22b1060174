using ConnText.Contracts.Files;
using ConnText.Server.Data;
using ConnText.Server.Messages;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Files;

/// <summary>
/// Who may read a file: its uploader, and the members of every conversation where a message (not deleted) carries it.
/// Everyone else gets the answer a missing file gets, so ids are not confirmed to strangers.
/// </summary>
internal static class FileAccessRules
{
    public static IQueryable<StoredFile> Readable(ConnTextDbContext db, Guid userId) =>
        db.Files.Where(f => f.UploaderId == userId
            || db.MessageAttachments.Any(a => a.FileId == f.Id
                && db.Messages.Any(m => m.Id == a.MessageId && m.DeletedAt == null
                    && db.ConversationMembers.Any(c => c.ConversationId == m.ConversationId && c.UserId == userId))));

    public static Task<StoredFile?> FindReadableAsync(ConnTextDbContext db, Guid fileId, Guid userId, CancellationToken cancellationToken) =>
        Readable(db, userId).AsNoTracking().FirstOrDefaultAsync(f => f.Id == fileId, cancellationToken);

    public static FileResponse ToResponse(StoredFile f) =>
        new(f.Id, f.Name, f.Size, f.ContentType, f.Sha256, f.UploaderId, f.CreatedAt, f.Width, f.Height);
}

/// <summary>
/// Files on messages. A sender may attach a file they may read (their own upload, or one shared with them in
/// another conversation: forwarding; see docs/adr/0013); deleting the message removes its attachments for everyone.
/// </summary>
internal static class Attachments
{
    /// <summary>A fixed limit rather than a setting: clients lay out at most this many.</summary>
    public const int MaxPerMessage = 10;

    /// <summary>Null when the ids may be attached by <paramref name="senderId"/>, else what is wrong.</summary>
    public static async Task<string?> CheckAsync(ConnTextDbContext db, Guid senderId, IReadOnlyList<Guid> fileIds, CancellationToken cancellationToken)
    {
        if (fileIds.Count > MaxPerMessage)
        {
            return $"A message carries at most {MaxPerMessage} files.";
        }

        if (fileIds.Distinct().Count() != fileIds.Count)
        {
            return "A file is attached once per message.";
        }

        var ids = fileIds.ToList();
        var readable = await FileAccessRules.Readable(db, senderId).CountAsync(f => ids.Contains(f.Id), cancellationToken);
        // Same answer for a missing file and one the sender may not read.
        return readable == ids.Count ? null : "Each attachment must be a file you uploaded or one shared with you.";
    }

    public static void Add(ConnTextDbContext db, Message message, IReadOnlyList<Guid> fileIds)
    {
        for (var i = 0; i < fileIds.Count; i++)
        {
            db.MessageAttachments.Add(new MessageAttachment { MessageId = message.Id, FileId = fileIds[i], Position = i });
        }

        message.HasAttachments = fileIds.Count > 0;
    }

    /// <summary>Removes a deleted message's attachments; the files' grace period (then cleanup) starts now.</summary>
    public static async Task DetachAsync(ConnTextDbContext db, Message message, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var messageId = message.Id;
        message.HasAttachments = false;
        var fileIds = await db.MessageAttachments.Where(a => a.MessageId == messageId).Select(a => a.FileId).ToListAsync(cancellationToken);
        if (fileIds.Count == 0)
        {
            return;
        }

        await db.MessageAttachments.Where(a => a.MessageId == messageId).ExecuteDeleteAsync(cancellationToken);
        await db.Files.Where(f => fileIds.Contains(f.Id))
            .ExecuteUpdateAsync(f => f.SetProperty(x => x.DetachedAt, now), cancellationToken);
    }

    public static async Task<ILookup<Guid, FileResponse>> ForMessagesAsync(
        ConnTextDbContext db, IReadOnlyCollection<Guid> messageIds, CancellationToken cancellationToken)
    {
        var rows = await db.MessageAttachments.AsNoTracking()
            .Where(a => messageIds.Contains(a.MessageId))
            .Join(db.Files, a => a.FileId, f => f.Id, (a, f) => new { a.MessageId, a.Position, File = f })
            .ToListAsync(cancellationToken);
        return rows.OrderBy(r => r.Position).ToLookup(r => r.MessageId, r => FileAccessRules.ToResponse(r.File));
    }
}
