using ConnText.Contracts.Conversations;
using ConnText.Server.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnText.Server.Messages;

/// <summary>
/// The common send on PostgreSQL (a member's text without files, reply or mention) in one round trip instead of
/// four (ADR 0025). One batch of two statements, which PostgreSQL runs as one implicit transaction: committed at
/// the batch's end, rolled back whole when a statement fails.
/// <list type="number">
/// <item>The conversation's row lock, the one its sequence <c>UPDATE</c> takes: concurrent writers of one
/// conversation queue here, as in <see cref="Sequencer"/>.</item>
/// <item>Started once the lock is held, so its snapshot sees every writer that committed before (a member removed
/// meanwhile, a retry stored meanwhile): the checks, and only when they pass the next sequence number, the message
/// and its event, as data-modifying CTEs. A refused send changes nothing, so the sequence stays gapless.</item>
/// </list>
/// SQLite's plain send is <see cref="SqliteSend"/>; every other send (files, replies, mentions) takes the EF Core
/// transaction in <see cref="MessagesEndpoints.SendAsync"/>; all store the same rows.
/// </summary>
internal static class PostgresSend
{
    private const string LockConversation = """SELECT 1 FROM conversations WHERE "Id" = $1 FOR NO KEY UPDATE""";

    // $1 conversation, $2 sender, $3 clientMessageId, $4 now, $5 the peer-to-peer kind, $6 message id, $7 message kind,
    // $8 text, $9 event kind. The last row says why nothing was stored when the sequence is null.
    private const string CheckAndStore = """
        WITH checked AS (
            SELECT c."Kind",
                   EXISTS (SELECT 1 FROM conversation_members m WHERE m."ConversationId" = $1 AND m."UserId" = $2) AS member,
                   EXISTS (SELECT 1 FROM messages s
                           WHERE s."ConversationId" = $1 AND s."SenderId" = $2 AND s."ClientMessageId" = $3) AS sent
            FROM conversations c
            WHERE c."Id" = $1),
        numbered AS (
            UPDATE conversations c SET "LastSequence" = c."LastSequence" + 1, "LastActivityAt" = $4
            FROM checked
            WHERE c."Id" = $1 AND checked.member AND NOT checked.sent AND checked."Kind" <> $5
            RETURNING c."LastSequence"),
        stored AS (
            INSERT INTO messages ("Id", "ConversationId", "Sequence", "Kind", "SenderId", "ClientMessageId", "Text", "CreatedAt",
                                  "HasReactions", "HasMentions", "HasAttachments")
            SELECT $6, $1, n."LastSequence", $7, $2, $3, $8, $4, false, false, false FROM numbered n),
        logged AS (
            INSERT INTO conversation_events ("ConversationId", "Sequence", "Kind", "ActorId", "MessageId", "CreatedAt")
            SELECT $1, n."LastSequence", $9, $2, $6, $4 FROM numbered n)
        SELECT checked."Kind", checked.member, checked.sent, (SELECT n."LastSequence" FROM numbered n)
        FROM checked
        """;

    /// <summary>See <see cref="PlainSend.StoreAsync"/>.</summary>
    public static Task<(PlainSend.Outcome Outcome, Message? Message)> StoreAsync(
        ConnTextDbContext db, Guid conversationId, Guid sender, Guid clientMessageId, string text, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        // A transient failure is retried from the start; a failure after the commit is then seen as AlreadySent.
        db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            var message = PlainSend.NewText(conversationId, sender, clientMessageId, text, now);
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                await using var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection())
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand(LockConversation) { Parameters = { Value(conversationId) } },
                        new NpgsqlBatchCommand(CheckAndStore)
                        {
                            Parameters =
                            {
                                Value(conversationId), Value(sender), Value(clientMessageId), Value(now),
                                Value(ConversationKinds.PeerToPeer), Value(message.Id), Value(message.Kind), Value(text),
                                Value(ConversationEventKinds.MessageCreated),
                            },
                        },
                    },
                };
                await using var reader = await batch.ExecuteReaderAsync(ct);
                await reader.NextResultAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    return (PlainSend.Outcome.NotFound, null);
                }

                var (kind, member, sent) = (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2));
                long? sequence = await reader.IsDBNullAsync(3, ct) ? null : reader.GetInt64(3);
                // Read to the end: an error of a later part of the batch (a constraint) surfaces here, not after.
                while (await reader.NextResultAsync(ct))
                {
                }

                if (sequence is { } stored)
                {
                    message.Sequence = stored;
                    return (PlainSend.Outcome.Stored, message);
                }

                return !member ? (PlainSend.Outcome.NotFound, null)
                    : sent ? (PlainSend.Outcome.AlreadySent, null)
                    : kind == ConversationKinds.PeerToPeer ? (PlainSend.Outcome.PeerToPeer, (Message?)null)
                    : throw new InvalidOperationException("A send passed its checks and stored nothing.");
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // Belt and braces, as in the EF Core path: the unique (conversation, sender, clientMessageId) index
                // refused a duplicate the check under the lock missed. Nothing of the batch was stored.
                return (PlainSend.Outcome.AlreadySent, null);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }, cancellationToken);

    private static NpgsqlParameter<T> Value<T>(T value) => new() { TypedValue = value };
}
