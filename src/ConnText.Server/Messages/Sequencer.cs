using ConnText.Server.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnText.Server.Messages;

/// <summary>
/// Assigns the per-conversation sequence numbers. Gapless and strictly increasing, also with concurrent
/// senders on several nodes, because the number is taken by one atomic
/// <c>UPDATE conversations … RETURNING</c> inside the same transaction that stores the event:
/// the row lock (PostgreSQL) or the database write lock (SQLite) serializes writers of one conversation
/// until commit, and a rolled-back transaction gives its number back.
/// </summary>
internal static class Sequencer
{
    /// <summary>
    /// Runs <paramref name="operation"/> in a write transaction through the provider's execution strategy
    /// (Npgsql's retrying strategy refuses user transactions otherwise; a retry starts from a clean change tracker).
    /// </summary>
    public static Task<TResult> InTransactionAsync<TResult>(
        ConnTextDbContext db, Func<CancellationToken, Task<TResult>> operation, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            // Note: on SQLite, Microsoft.Data.Sqlite begins with BEGIN IMMEDIATE, so the write lock is taken
            // (waiting up to the busy timeout) before anything is read: no SQLITE_BUSY from a read-to-write upgrade.
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var result = await operation(ct);
            if (db.Database.CurrentTransaction is not null)
            {
                await transaction.CommitAsync(ct);
            }

            return result;
        }, cancellationToken);

    /// <summary>
    /// Takes the next sequence number of the conversation; must be the first statement of the transaction so
    /// concurrent writers queue on the lock instead of failing. Returns null when the conversation does not exist.
    /// </summary>
    public static async Task<long?> NextAsync(ConnTextDbContext db, Guid conversationId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var values = await db.Database.SqlQuery<long>(
                $"UPDATE conversations SET \"LastSequence\" = \"LastSequence\" + 1 WHERE \"Id\" = {conversationId} RETURNING \"LastSequence\" AS \"Value\"")
            .ToListAsync(cancellationToken);
        if (values.Count == 0)
        {
            return null;
        }

        // A separate statement so the provider's DateTimeOffset converter applies (SQLite stores it as a number).
        await db.Conversations.Where(c => c.Id == conversationId)
            .ExecuteUpdateAsync(c => c.SetProperty(x => x.LastActivityAt, now), cancellationToken);
        return values[0];
    }

    /// <summary>Rolls the current transaction back (its sequence number is released with it).</summary>
    public static async Task RollbackAsync(ConnTextDbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is { } transaction)
        {
            await transaction.RollbackAsync(cancellationToken);
            await transaction.DisposeAsync();
        }

        db.ChangeTracker.Clear();
    }

    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode == 19, // SQLITE_CONSTRAINT
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
