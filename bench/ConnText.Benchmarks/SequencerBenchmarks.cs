using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using ConnText.Contracts.Conversations;
using ConnText.Server.Conversations;
using ConnText.Server.Data;
using ConnText.Server.Data.Postgres;
using ConnText.Server.Data.Sqlite;
using ConnText.Server.Messages;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnText.Benchmarks;

/// <summary>
/// Storing one message with its sequence number, as <c>SendMessage</c> does it: a new
/// <see cref="ConnTextDbContext"/> (one per request in the server), <see cref="Sequencer.InTransactionAsync{TResult}"/>
/// (execution strategy, BEGIN), <see cref="Sequencer.NextAsync"/> (the atomic UPDATE … RETURNING and the
/// LastActivityAt update), the message and its <c>message.created</c> event inserted by <c>SaveChanges</c>,
/// COMMIT. One conversation, one writer. Not included: the send's checks before and inside the transaction
/// (membership, peer-to-peer, idempotency look-ups, mentions), reading the response, and the push.
/// SQLite: a temporary file database, connection string as the server builds it. PostgreSQL: only when
/// <c>CONNTEXT_BENCH_POSTGRES</c> holds a connection string; a database <c>conntext_bench_seq_*</c> is created
/// on that server (with the server's retrying execution strategy) and dropped afterwards.
/// </summary>
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 3, iterationCount: 10)]
[MemoryDiagnoser]
public class SequencerBenchmarks
{
    private const string PostgresVariable = "CONNTEXT_BENCH_POSTGRES";

    private readonly Guid conversationId = Guid.CreateVersion7();
    private readonly Guid senderId = Guid.CreateVersion7();
    private Func<ConnTextDbContext> newContext = null!;
    private string? sqliteDirectory;

    [ParamsSource(nameof(Providers))]
    public string Provider { get; set; } = "Sqlite";

    /// <summary>SQLite always; PostgreSQL when <c>CONNTEXT_BENCH_POSTGRES</c> is set (otherwise that case is skipped).</summary>
    public static IEnumerable<string> Providers() =>
        string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(PostgresVariable)) ? ["Sqlite"] : ["Sqlite", "Postgres"];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        if (Provider == "Postgres")
        {
            var builder = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable(PostgresVariable))
            {
                Database = $"conntext_bench_seq_{Guid.NewGuid():N}",
            };
            var options = new DbContextOptionsBuilder<PostgresConnTextDbContext>()
                .UseNpgsql(builder.ConnectionString, npgsql => npgsql.EnableRetryOnFailure(3)) // as DataServices
                .Options;
            newContext = () => new PostgresConnTextDbContext(options);
        }
        else
        {
            sqliteDirectory = Directory.CreateTempSubdirectory("conntext-bench-seq-").FullName;
            // As DataServices builds it for a file database.
            var connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(sqliteDirectory, "conntext.db"), DefaultTimeout = 30, Pooling = true,
            }.ToString();
            var options = new DbContextOptionsBuilder<SqliteConnTextDbContext>().UseSqlite(connectionString).Options;
            newContext = () => new SqliteConnTextDbContext(options);
        }

        await using var db = newContext();
        await db.Database.MigrateAsync(); // creates the PostgreSQL database too
        var at = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        db.Conversations.Add(new Conversation
        {
            Id = conversationId, Kind = ConversationKinds.Group, Title = "bench", CreatedAt = at, LastActivityAt = at,
        });
        await db.SaveChangesAsync();
        if (Provider == "Sqlite")
        {
            // EF's migration created the file in WAL mode, as it does for the server.
            var journal = await db.Database.SqlQuery<string>($"SELECT journal_mode AS \"Value\" FROM pragma_journal_mode").ToListAsync();
            var synchronous = await db.Database.SqlQuery<long>($"SELECT synchronous AS \"Value\" FROM pragma_synchronous").ToListAsync();
            Console.WriteLine($"// SQLite journal_mode={journal[0]}, synchronous={synchronous[0]}");
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (Provider == "Postgres")
        {
            await using var db = newContext();
            await db.Database.EnsureDeletedAsync();
        }
        else if (sqliteDirectory is not null)
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(sqliteDirectory, recursive: true);
        }
    }

    [Benchmark]
    public async Task<long> SequenceAndInsert()
    {
        await using var db = newContext();
        var now = TimeProvider.System.GetUtcNow();
        return await Sequencer.InTransactionAsync(db, async ct =>
        {
            var sequence = (await Sequencer.NextAsync(db, conversationId, now, ct))!.Value;
            var message = new Message
            {
                Id = Guid.CreateVersion7(now),
                ConversationId = conversationId,
                Sequence = sequence,
                Kind = MessageKinds.Text,
                SenderId = senderId,
                ClientMessageId = Guid.NewGuid(),
                Text = "Hello from the sequencer benchmark: a short chat message of about a hundred characters, like this.",
                CreatedAt = now,
            };
            db.Messages.Add(message);
            // As MessagesEndpoints.AddEvent.
            db.ConversationEvents.Add(new ConversationEvent
            {
                ConversationId = conversationId, Sequence = sequence, Kind = ConversationEventKinds.MessageCreated, ActorId = senderId,
                MessageId = message.Id, CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            return sequence;
        }, CancellationToken.None);
    }
}
