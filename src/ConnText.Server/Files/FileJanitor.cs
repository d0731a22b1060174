using ConnText.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Files;

/// <summary>
/// Every <see cref="FilesOptions.CleanupInterval"/>: deletes unfinished uploads past their expiry (with their partial
/// bytes), and files no message references once <see cref="FilesOptions.UnreferencedFileGracePeriod"/> has passed
/// since they were uploaded or last detached (their blob goes when no other file row has the same content).
/// </summary>
internal sealed partial class FileJanitor(
    IServiceScopeFactory scopes, FileIngest ingest, ContentStore store, IOptions<FilesOptions> options, TimeProvider time,
    ILogger<FileJanitor> logger) : BackgroundService
{
    private const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failed round (database briefly unavailable) is retried at the next tick.
                    LogFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One cleanup round; returns how many uploads and files were removed.</summary>
    public async Task<(int Uploads, int Files)> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        var uploads = await ExpireUploadsAsync(db, cancellationToken);
        var files = await DeleteUnreferencedFilesAsync(db, cancellationToken);
        if (uploads + files > 0)
        {
            LogCleaned(logger, uploads, files);
        }

        return (uploads, files);
    }

    private async Task<int> ExpireUploadsAsync(ConnTextDbContext db, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expired = await db.FileUploads.AsNoTracking().Where(u => u.ExpiresAt <= now)
            .OrderBy(u => u.Id).Select(u => u.Id).Take(Batch).ToListAsync(cancellationToken);
        var removed = 0;
        foreach (var id in expired)
        {
            var state = ingest.StateFor(id);
            // An upload a request is writing right now is left for the next round.
            if (!await state.Lock.WaitAsync(TimeSpan.Zero, cancellationToken))
            {
                continue;
            }

            try
            {
                // The row goes first: a PATCH arriving in between finds no upload, never a missing file.
                removed += await db.FileUploads.Where(u => u.Id == id).ExecuteDeleteAsync(cancellationToken);
                File.Delete(store.PartialPath(id));
            }
            finally
            {
                state.Lock.Release();
                ingest.Forget(id);
            }
        }

        return removed;
    }

    private async Task<int> DeleteUnreferencedFilesAsync(ConnTextDbContext db, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - options.Value.UnreferencedFileGracePeriod;
        var candidates = await db.Files.AsNoTracking()
            .Where(f => !db.MessageAttachments.Any(a => a.FileId == f.Id) && (f.DetachedAt ?? f.CreatedAt) <= cutoff)
            .OrderBy(f => f.Id).Select(f => new { f.Id, f.Sha256 }).Take(Batch).ToListAsync(cancellationToken);
        var removed = 0;
        foreach (var file in candidates)
        {
            using (await store.LockAsync(file.Sha256, cancellationToken))
            {
                // Re-checked in the delete itself: a message may have attached the file since it was listed.
                var deleted = await db.Files
                    .Where(f => f.Id == file.Id && !db.MessageAttachments.Any(a => a.FileId == f.Id))
                    .ExecuteDeleteAsync(cancellationToken);
                if (deleted == 0)
                {
                    continue;
                }

                removed++;
                if (!await db.Files.AnyAsync(f => f.Sha256 == file.Sha256, cancellationToken))
                {
                    store.DeleteLocked(file.Sha256);
                }
            }
        }

        return removed;
    }

    [LoggerMessage(EventId = 5020, Level = LogLevel.Information, Message = "File cleanup removed {Uploads} expired uploads and {Files} unreferenced files")]
    private static partial void LogCleaned(ILogger logger, int uploads, int files);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Warning, Message = "File cleanup failed; retrying at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
