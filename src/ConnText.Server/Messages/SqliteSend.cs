using System.Data.Common;
using System.Runtime.CompilerServices;
using ConnText.Contracts.Conversations;
using ConnText.Server.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace ConnText.Server.Messages;

/// <summary>
/// The common send on SQLite (a member's text without files, reply or mention) as two commands of plain SQL inside the
/// write transaction (ADR 0026), instead of EF Core's raw query, compiled check, change tracking and SaveChanges:
/// <list type="number">
/// <item>The checks and the conversation's last sequence number, read under the write lock the transaction took at
/// <c>BEGIN IMMEDIATE</c>: no other writer of this database can change them until the commit.</item>
/// <item>Only when the checks pass: the next sequence number, the message and its event (three statements, one
/// command). A refused send writes nothing, so the sequence stays gapless.</item>
/// </list>
/// Values are bound through the EF Core model's own type mappings, so the rows are exactly those the EF Core path
/// stores (GUIDs as text, times as the model's sortable numbers).
/// </summary>
internal static class SqliteSend
{
    private const string Check = """
        SELECT c."Kind", c."LastSequence",
               EXISTS (SELECT 1 FROM conversation_members m WHERE m."ConversationId" = $conversation AND m."UserId" = $sender),
               EXISTS (SELECT 1 FROM messages s
                       WHERE s."ConversationId" = $conversation AND s."SenderId" = $sender AND s."ClientMessageId" = $client)
        FROM conversations c
        WHERE c."Id" = $conversation
        """;

    private const string Store = """
        UPDATE conversations SET "LastSequence" = $sequence, "LastActivityAt" = $now
        WHERE "Id" = $conversation AND "LastSequence" = $sequence - 1;
        INSERT INTO messages ("Id", "ConversationId", "Sequence", "Kind", "SenderId", "ClientMessageId", "Text", "CreatedAt",
                              "HasReactions", "HasMentions", "HasAttachments")
        VALUES ($id, $conversation, $sequence, $kind, $sender, $client, $text, $now, 0, 0, 0);
        INSERT INTO conversation_events ("ConversationId", "Sequence", "Kind", "ActorId", "MessageId", "CreatedAt")
        VALUES ($conversation, $sequence, $event, $sender, $id, $now);
        """;

    private const int SqliteConstraintUnique = 2067;

    private static readonly ConditionalWeakTable<IModel, Mappings> MappingsByModel = [];

    /// <summary>See <see cref="PlainSend.StoreAsync"/>.</summary>
    public static async Task<(PlainSend.Outcome Outcome, Message? Message)> StoreAsync(
        ConnTextDbContext db, Guid conversationId, Guid sender, Guid clientMessageId, string text, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var mappings = MappingsByModel.GetValue(db.Model, static model => new Mappings(model));
        try
        {
            return await Sequencer.InTransactionAsync(db, async ct =>
            {
                long last;
                await using (var check = Command(db, mappings, conversationId, sender, clientMessageId))
                {
                    check.CommandText = Check;
                    await using var reader = await check.ExecuteReaderAsync(ct);
                    if (!await reader.ReadAsync(ct))
                    {
                        return (PlainSend.Outcome.NotFound, (Message?)null);
                    }

                    var (kind, member, sent) = (reader.GetString(0), reader.GetBoolean(2), reader.GetBoolean(3));
                    last = reader.GetInt64(1);
                    var refusal = !member ? PlainSend.Outcome.NotFound
                        : sent ? PlainSend.Outcome.AlreadySent
                        : kind == ConversationKinds.PeerToPeer ? PlainSend.Outcome.PeerToPeer
                        : PlainSend.Outcome.Stored;
                    if (refusal != PlainSend.Outcome.Stored)
                    {
                        return (refusal, null); // nothing written: the transaction commits empty
                    }
                }

                var message = PlainSend.NewText(conversationId, sender, clientMessageId, text, now);
                message.Sequence = last + 1;
                await using (var store = Command(db, mappings, conversationId, sender, clientMessageId))
                {
                    store.CommandText = Store;
                    mappings.Guid(store, "$id", message.Id);
                    mappings.Time(store, "$now", now);
                    store.Parameters.AddWithValue("$sequence", message.Sequence);
                    store.Parameters.AddWithValue("$kind", message.Kind);
                    store.Parameters.AddWithValue("$text", text);
                    store.Parameters.AddWithValue("$event", ConversationEventKinds.MessageCreated);
                    // One row each: the counter (still at the number read under the lock), the message, the event.
                    var changed = await store.ExecuteNonQueryAsync(ct);
                    if (changed != 3)
                    {
                        throw new InvalidOperationException($"A send under the write lock changed {changed} rows instead of 3.");
                    }
                }

                return (PlainSend.Outcome.Stored, message);
            }, cancellationToken);
        }
        catch (SqliteException ex) when (ex.SqliteExtendedErrorCode == SqliteConstraintUnique)
        {
            // Belt and braces, as in the EF Core path: the unique (conversation, sender, clientMessageId) index refused
            // a duplicate the check missed (a writer outside this server). The transaction rolled back whole.
            return (PlainSend.Outcome.AlreadySent, null);
        }
    }

    /// <summary>A command in the open write transaction, with the send's three ids bound.</summary>
    private static SqliteCommand Command(ConnTextDbContext db, Mappings mappings, Guid conversationId, Guid sender, Guid clientMessageId)
    {
        var command = ((SqliteConnection)db.Database.GetDbConnection()).CreateCommand();
        command.Transaction = (SqliteTransaction)db.Database.CurrentTransaction!.GetDbTransaction();
        mappings.Guid(command, "$conversation", conversationId);
        mappings.Guid(command, "$sender", sender);
        mappings.Guid(command, "$client", clientMessageId);
        return command;
    }

    /// <summary>How the model stores a GUID and a time on SQLite (EF Core's mappings and the model's converters).</summary>
    private sealed class Mappings(IModel model)
    {
        private readonly RelationalTypeMapping guid = Mapping(model, nameof(Message.Id));
        private readonly RelationalTypeMapping time = Mapping(model, nameof(Message.CreatedAt));

        public void Guid(DbCommand command, string name, Guid value) => command.Parameters.Add(guid.CreateParameter(command, name, value, nullable: false));

        public void Time(DbCommand command, string name, DateTimeOffset value) => command.Parameters.Add(time.CreateParameter(command, name, value, nullable: false));

        private static RelationalTypeMapping Mapping(IModel model, string property) =>
            model.FindEntityType(typeof(Message))!.FindProperty(property)!.GetRelationalTypeMapping();
    }
}
