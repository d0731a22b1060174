using System.Globalization;
using System.Text.Json;
using ConnText.Client.Auth;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using Microsoft.Data.Sqlite;

namespace ConnText.Client.Store;

/// <summary>
/// One account's local SQLite database: conversations, messages and users as last seen (so history opens instantly and
/// offline), the sequence applied per conversation (where a resume starts) and the outbox of messages written but not
/// yet accepted by the server. Wire records are stored as JSON next to the columns that are queried.
/// </summary>
public sealed partial class LocalStore : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SqliteConnection connection;
    private readonly Lock gate = new();
    private readonly string me;

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/> of the account of user <paramref name="userId"/>.</summary>
    public LocalStore(string path, Guid userId)
    {
        me = Key(userId);
        OwnerOnly.CreateDirectory(Path.GetDirectoryName(path)!);
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, OwnerOnly.FilePermissions);
        }

        Execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS conversations (
                id TEXT PRIMARY KEY, json TEXT NOT NULL, applied_sequence INTEGER NOT NULL, last_read INTEGER NOT NULL,
                last_activity TEXT NOT NULL, history_complete INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS messages (
                id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, sequence INTEGER NOT NULL, sender_id TEXT,
                counts_as_unread INTEGER NOT NULL, json TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS messages_by_sequence ON messages (conversation_id, sequence);
            CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox (
                position INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, client_message_id TEXT NOT NULL UNIQUE,
                text TEXT NOT NULL, reply_to TEXT, created_at TEXT NOT NULL);
            """);
        CreateSearchAndSettings();
    }

    /// <summary>All stored conversations, most recently active first.</summary>
    public IReadOnlyList<StoredConversation> Conversations()
    {
        lock (gate)
        {
            // Unread is counted here rather than kept as a number: pushed events, syncs and list refreshes then cannot count a message twice.
            using var command = Command("""
                SELECT c.json, c.applied_sequence,
                    (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.sequence > c.last_read AND m.counts_as_unread = 1
                        AND (m.sender_id IS NULL OR m.sender_id <> $me)),
                    c.history_complete
                FROM conversations c ORDER BY c.last_activity DESC
                """, ("$me", me));
            using var reader = command.ExecuteReader();
            var result = new List<StoredConversation>();
            while (reader.Read())
            {
                result.Add(new StoredConversation(
                    JsonSerializer.Deserialize<ConversationResponse>(reader.GetString(0), Json)!, reader.GetInt64(1), reader.GetInt32(2), reader.GetInt64(3) != 0));
            }

            return result;
        }
    }

    /// <summary>One stored conversation, or <see langword="null"/>.</summary>
    public StoredConversation? Conversation(Guid id) => Conversations().FirstOrDefault(c => c.Conversation.Id == id);

    /// <summary>
    /// Stores a conversation as the server described it. A new one starts at <paramref name="appliedSequence"/>; an
    /// existing one keeps its applied sequence (events move it); the read marker only moves forward. Returns whether
    /// the description changed (title, members, mute, ...), so a list refresh knows whether there is anything to show.
    /// </summary>
    public bool UpsertConversation(ConversationResponse conversation, long appliedSequence)
    {
        lock (gate)
        {
            var json = JsonSerializer.Serialize(conversation, Json);
            using var previous = Command("SELECT json FROM conversations WHERE id = $id", ("$id", Key(conversation.Id)));
            var changed = previous.ExecuteScalar() as string != json;
            using var command = Command("""
                INSERT INTO conversations (id, json, applied_sequence, last_read, last_activity) VALUES ($id, $json, $applied, $read, $activity)
                ON CONFLICT (id) DO UPDATE SET json = $json, last_read = max(last_read, $read),
                    last_activity = max(last_activity, $activity)
                """,
                ("$id", Key(conversation.Id)), ("$json", json), ("$applied", appliedSequence),
                ("$read", conversation.LastReadSequence), ("$activity", Time(conversation.LastActivityAt)));
            command.ExecuteNonQuery();
            return changed;
        }
    }

    /// <summary>Records that events up to <paramref name="sequence"/> are applied, and the activity time.</summary>
    public void Applied(Guid conversationId, long sequence, DateTimeOffset activity)
    {
        lock (gate)
        {
            using var command = Command("""
                UPDATE conversations SET applied_sequence = max(applied_sequence, $sequence),
                    last_activity = max(last_activity, $activity) WHERE id = $id
                """,
                ("$id", Key(conversationId)), ("$sequence", sequence), ("$activity", Time(activity)));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Moves the local read marker forward.</summary>
    public void SetLastRead(Guid conversationId, long sequence)
    {
        lock (gate)
        {
            using var command = Command("UPDATE conversations SET last_read = max(last_read, $sequence) WHERE id = $id",
                ("$id", Key(conversationId)), ("$sequence", sequence));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Moves a member's read marker ("seen by") forward in the stored conversation.</summary>
    public void SetMemberRead(Guid conversationId, Guid userId, long sequence)
    {
        lock (gate)
        {
            var stored = Conversation(conversationId);
            var member = stored?.Conversation.Members.FirstOrDefault(m => m.UserId == userId);
            if (stored is null || member is null || member.LastReadSequence >= sequence)
            {
                return;
            }

            var conversation = stored.Conversation with
            {
                Members = [.. stored.Conversation.Members.Select(m => m.UserId == userId ? m with { LastReadSequence = sequence } : m)],
            };
            using var command = Command("UPDATE conversations SET json = $json WHERE id = $id",
                ("$id", Key(conversationId)), ("$json", JsonSerializer.Serialize(conversation, Json)));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Forgets a conversation the user is no longer a member of: its messages (their search entries go with them, by
    /// trigger) and unsent messages too, in one transaction.
    /// </summary>
    public void RemoveConversation(Guid conversationId)
    {
        lock (gate)
        {
            using var transaction = connection.BeginTransaction();
            foreach (var table in new[] { "messages", "outbox" })
            {
                using var command = Command($"DELETE FROM {table} WHERE conversation_id = $id", ("$id", Key(conversationId)));
                command.Transaction = transaction;
                command.ExecuteNonQuery();
            }

            using var conversation = Command("DELETE FROM conversations WHERE id = $id", ("$id", Key(conversationId)));
            conversation.Transaction = transaction;
            conversation.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    /// <summary>Marks that history has been loaded back to the first message.</summary>
    public void HistoryComplete(Guid conversationId)
    {
        lock (gate)
        {
            using var command = Command("UPDATE conversations SET history_complete = 1 WHERE id = $id", ("$id", Key(conversationId)));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Stores (or replaces) a message.</summary>
    public void UpsertMessage(MessageResponse message)
    {
        lock (gate)
        {
            using var command = Command("""
                INSERT INTO messages (id, conversation_id, sequence, sender_id, counts_as_unread, json)
                VALUES ($id, $conversation, $sequence, $sender, $unread, $json)
                ON CONFLICT (id) DO UPDATE SET json = $json, counts_as_unread = $unread
                """,
                ("$id", Key(message.Id)), ("$conversation", Key(message.ConversationId)), ("$sequence", message.Sequence),
                ("$sender", message.SenderId is { } sender ? Key(sender) : DBNull.Value),
                ("$unread", message.Kind == MessageKinds.Text && message.DeletedAt is null ? 1 : 0),
                ("$json", JsonSerializer.Serialize(message, Json)));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>A stored message, or <see langword="null"/>.</summary>
    public MessageResponse? Message(Guid id)
    {
        lock (gate)
        {
            using var command = Command("SELECT json FROM messages WHERE id = $id", ("$id", Key(id)));
            return command.ExecuteScalar() is string json ? JsonSerializer.Deserialize<MessageResponse>(json, Json) : null;
        }
    }

    /// <summary>The newest <paramref name="limit"/> stored messages of a conversation, oldest first.</summary>
    public IReadOnlyList<MessageResponse> Messages(Guid conversationId, int limit)
    {
        lock (gate)
        {
            using var command = Command("""
                SELECT json FROM (SELECT json, sequence FROM messages WHERE conversation_id = $id ORDER BY sequence DESC LIMIT $limit)
                ORDER BY sequence
                """, ("$id", Key(conversationId)), ("$limit", limit));
            using var reader = command.ExecuteReader();
            var result = new List<MessageResponse>();
            while (reader.Read())
            {
                result.Add(JsonSerializer.Deserialize<MessageResponse>(reader.GetString(0), Json)!);
            }

            return result;
        }
    }

    /// <summary>The lowest stored message sequence of a conversation, or <see langword="null"/>.</summary>
    public long? OldestSequence(Guid conversationId)
    {
        lock (gate)
        {
            using var command = Command("SELECT min(sequence) FROM messages WHERE conversation_id = $id", ("$id", Key(conversationId)));
            return command.ExecuteScalar() is long sequence ? sequence : null;
        }
    }

    /// <summary>The highest stored message sequence of a conversation, or 0.</summary>
    public long LastSequence(Guid conversationId)
    {
        lock (gate)
        {
            using var command = Command("SELECT max(sequence) FROM messages WHERE conversation_id = $id", ("$id", Key(conversationId)));
            return command.ExecuteScalar() is long sequence ? sequence : 0;
        }
    }

    /// <summary>Stores a user profile summary (names for senders and members).</summary>
    public void UpsertUser(UserSummary user)
    {
        lock (gate)
        {
            using var command = Command("INSERT INTO users (id, json) VALUES ($id, $json) ON CONFLICT (id) DO UPDATE SET json = $json",
                ("$id", Key(user.Id)), ("$json", JsonSerializer.Serialize(user, Json)));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>A stored user, or <see langword="null"/>.</summary>
    public UserSummary? User(Guid id)
    {
        lock (gate)
        {
            using var command = Command("SELECT json FROM users WHERE id = $id", ("$id", Key(id)));
            return command.ExecuteScalar() is string json ? JsonSerializer.Deserialize<UserSummary>(json, Json) : null;
        }
    }

    /// <summary>Queues a message for sending; the outbox keeps the order in which they were written.</summary>
    public void Enqueue(OutboxEntry entry)
    {
        lock (gate)
        {
            using var command = Command("""
                INSERT INTO outbox (conversation_id, client_message_id, text, reply_to, created_at) VALUES ($conversation, $client, $text, $reply, $created)
                """,
                ("$conversation", Key(entry.ConversationId)), ("$client", Key(entry.ClientMessageId)), ("$text", entry.Text),
                ("$reply", entry.ReplyToMessageId is { } r ? Key(r) : DBNull.Value), ("$created", Time(entry.CreatedAt)));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Every queued message, oldest first.</summary>
    public IReadOnlyList<OutboxEntry> Outbox()
    {
        lock (gate)
        {
            using var command = Command("SELECT conversation_id, client_message_id, text, reply_to, created_at FROM outbox ORDER BY position");
            using var reader = command.ExecuteReader();
            var result = new List<OutboxEntry>();
            while (reader.Read())
            {
                result.Add(new OutboxEntry(
                    Guid.Parse(reader.GetString(0)), Guid.Parse(reader.GetString(1)), reader.GetString(2),
                    reader.IsDBNull(3) ? null : Guid.Parse(reader.GetString(3)),
                    DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture)));
            }

            return result;
        }
    }

    /// <summary>Removes a message from the outbox (the server accepted or refused it).</summary>
    public void Dequeue(Guid clientMessageId)
    {
        lock (gate)
        {
            using var command = Command("DELETE FROM outbox WHERE client_message_id = $client", ("$client", Key(clientMessageId)));
            command.ExecuteNonQuery();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        connection.Dispose();
    }

    private static string Key(Guid id) => id.ToString("D", CultureInfo.InvariantCulture);

    // Fixed-width UTC ISO 8601 so text order is time order.
    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);

    private void Execute(string sql)
    {
        lock (gate)
        {
            using var command = Command(sql);
            command.ExecuteNonQuery();
        }
    }

    private SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // constant SQL; every value is a parameter
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}

/// <summary>A conversation as stored locally.</summary>
/// <param name="Conversation">The server's description, as last fetched.</param>
/// <param name="AppliedSequence">The last event applied locally; a resume asks for what comes after it.</param>
/// <param name="Unread">Messages from others after the read marker.</param>
/// <param name="HistoryComplete">Whether history has been loaded back to the first message.</param>
public sealed record StoredConversation(ConversationResponse Conversation, long AppliedSequence, int Unread, bool HistoryComplete);

/// <summary>A message written locally and not yet accepted by the server.</summary>
/// <param name="ConversationId">Where it goes.</param>
/// <param name="ClientMessageId">Its id chosen here; a resend with it is stored once.</param>
/// <param name="Text">The text.</param>
/// <param name="ReplyToMessageId">The message it answers, if any.</param>
/// <param name="CreatedAt">When it was written.</param>
public sealed record OutboxEntry(Guid ConversationId, Guid ClientMessageId, string Text, Guid? ReplyToMessageId, DateTimeOffset CreatedAt);
