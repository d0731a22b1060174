using System.Runtime.CompilerServices;
using ConnText.Server.Conversations;
using ConnText.Server.Data;
using ConnText.Server.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
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
    private static readonly ConditionalWeakTable<IModel, StrongBox<ValueConverter?>> LastActivityConverter = [];

    /// <summary>
    /// Runs <paramref name="operation"/> in a write transaction through the provider's execution strategy
    /// (Npgsql's retrying strategy refuses user transactions otherwise; a retry starts from a clean change tracker).
    /// </summary>
    public static Task<TResult> InTransactionAsync<TResult>(
        ConnTextDbContext db, Func<CancellationToken, Task<TResult>> operation, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            // No savepoint around each SaveChanges (EF Core's default inside a user transaction): it is there to keep
            // the transaction usable after a failed SaveChanges, and ours is never used after one, it rolls back whole.
            // On PostgreSQL the SAVEPOINT and its RELEASE were two more round trips per write.
            db.Database.AutoSavepointsEnabled = false;
            // On SQLite this process's writers queue asynchronously first (SqliteWriteGate), instead of sleeping on
            // threads in SQLite's busy handler. Microsoft.Data.Sqlite then begins with BEGIN IMMEDIATE, so the write
            // lock is taken before anything is read: no SQLITE_BUSY from a read-to-write upgrade.
            using var turn = db.Database.IsSqlite()
                ? await SqliteWriteGate.For(db.Database.GetConnectionString()!).EnterAsync(ct)
                : default(SqliteWriteGate.Turn?);
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var result = await operation(ct);
            if (db.Database.CurrentTransaction is not null)
            {
                await transaction.CommitAsync(ct);
            }

            return result;
        }, cancellationToken);

    /// <summary>
    /// Takes the next sequence number of the conversation and moves its last activity to <paramref name="now"/>, in
    /// one statement; must be the first statement of the transaction so concurrent writers queue on the lock instead
    /// of failing. Returns null when the conversation does not exist.
    /// </summary>
    public static async Task<long?> NextAsync(ConnTextDbContext db, Guid conversationId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The time goes in as the column stores it: through the provider's converter where the model has one
        // (SQLite keeps DateTimeOffset as a sortable number), as a timestamptz otherwise.
        var activity = LastActivityConverter.GetValue(db.Model, FindLastActivityConverter) is { Value: { } converter }
            ? converter.ConvertToProvider(now)!
            : now;
        var values = await db.Database.SqlQuery<long>(
                $"UPDATE conversations SET \"LastSequence\" = \"LastSequence\" + 1, \"LastActivityAt\" = {activity} WHERE \"Id\" = {conversationId} RETURNING \"LastSequence\" AS \"Value\"")
            .ToListAsync(cancellationToken);
        return values.Count == 0 ? null : values[0];
    }

    private static StrongBox<ValueConverter?> FindLastActivityConverter(IModel model) =>
        new(model.FindEntityType(typeof(Conversation))!.FindProperty(nameof(Conversation.LastActivityAt))!.GetTypeMapping().Converter);

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
