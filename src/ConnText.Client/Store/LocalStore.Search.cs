using System.Globalization;
using System.Text;
using System.Text.Json;
using ConnText.Contracts.Conversations;

namespace ConnText.Client.Store;

/// <summary>
/// Local full-text search (SQLite FTS5 over the messages table, kept in sync by triggers, so every upsert, edit,
/// deletion tombstone and removed conversation is reflected without the callers doing anything) and the account's
/// local settings (a key/value table).
/// </summary>
public sealed partial class LocalStore
{
    /// <summary>Marks the start of a matched term in <see cref="LocalSearchHit.Snippet"/>.</summary>
    public const char MatchStart = '\u0002';

    /// <summary>Marks the end of a matched term in <see cref="LocalSearchHit.Snippet"/>.</summary>
    public const char MatchEnd = '\u0003';

    /// <summary>
    /// Messages whose text contains every word of <paramref name="query"/> (the last one as a prefix, so results follow
    /// typing), best match first. The query is plain words: FTS5 operators and quotes in it are searched for as text.
    /// </summary>
    public IReadOnlyList<LocalSearchHit> Search(string query, int limit, Guid? conversationId = null)
    {
        var match = MatchExpression(query);
        if (match is null)
        {
            return [];
        }

        lock (gate)
        {
            using var command = Command($"""
                SELECT m.json, snippet(messages_fts, 0, '{MatchStart}', '{MatchEnd}', '…', 16)
                FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
                WHERE messages_fts MATCH $match AND ($conversation IS NULL OR m.conversation_id = $conversation)
                ORDER BY rank, m.sequence DESC LIMIT $limit
                """,
                ("$match", match), ("$limit", limit), ("$conversation", conversationId is { } c ? Key(c) : DBNull.Value));
            using var reader = command.ExecuteReader();
            var result = new List<LocalSearchHit>();
            while (reader.Read())
            {
                result.Add(new LocalSearchHit(JsonSerializer.Deserialize<MessageResponse>(reader.GetString(0), Json)!, reader.GetString(1)));
            }

            return result;
        }
    }

    /// <summary>How many stored messages of a conversation have a sequence at or after <paramref name="sequence"/>.</summary>
    public int CountFrom(Guid conversationId, long sequence)
    {
        lock (gate)
        {
            using var command = Command("SELECT count(*) FROM messages WHERE conversation_id = $id AND sequence >= $sequence",
                ("$id", Key(conversationId)), ("$sequence", sequence));
            return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A local setting, or <see langword="null"/> when never set.</summary>
    public string? Setting(string key)
    {
        lock (gate)
        {
            using var command = Command("SELECT value FROM settings WHERE key = $key", ("$key", key));
            return command.ExecuteScalar() as string;
        }
    }

    /// <summary>Stores a local setting.</summary>
    public void SetSetting(string key, string value)
    {
        lock (gate)
        {
            using var command = Command("INSERT INTO settings (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = $value",
                ("$key", key), ("$value", value));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Quotes every word (so nothing the user types is an FTS5 operator or syntax error) and makes the last one a
    /// prefix; <see langword="null"/> when there is nothing to search for.
    /// </summary>
    internal static string? MatchExpression(string query)
    {
        var words = query.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(w => string.Concat(w.Where(ch => !char.IsControl(ch))))
            .Where(w => w.Any(char.IsLetterOrDigit))
            .Take(16)
            .ToList();
        if (words.Count == 0)
        {
            return null;
        }

        var match = new StringBuilder();
        foreach (var word in words)
        {
            match.Append(match.Length == 0 ? "" : " ").Append('"').Append(word.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }

        return match.Append('*').ToString();
    }

    private void CreateSearchAndSettings()
    {
        lock (gate)
        {
            using (var exists = Command("SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts'"))
            {
                if (Convert.ToInt32(exists.ExecuteScalar(), CultureInfo.InvariantCulture) > 0)
                {
                    return;
                }
            }

            // Tombstones and system messages have no text and are not indexed; the rowid links an entry to its message.
            // A store from before search existed is indexed once, here.
            using var create = Command("""
                BEGIN;
                CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE VIRTUAL TABLE messages_fts USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
                CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
                    INSERT INTO messages_fts (rowid, text) SELECT new.rowid, json_extract(new.json, '$.text')
                        WHERE json_extract(new.json, '$.text') IS NOT NULL;
                END;
                CREATE TRIGGER messages_fts_update AFTER UPDATE OF json ON messages BEGIN
                    DELETE FROM messages_fts WHERE rowid = old.rowid;
                    INSERT INTO messages_fts (rowid, text) SELECT new.rowid, json_extract(new.json, '$.text')
                        WHERE json_extract(new.json, '$.text') IS NOT NULL;
                END;
                CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
                    DELETE FROM messages_fts WHERE rowid = old.rowid;
                END;
                INSERT INTO messages_fts (rowid, text) SELECT rowid, json_extract(json, '$.text') FROM messages
                    WHERE json_extract(json, '$.text') IS NOT NULL;
                COMMIT;
                """);
            create.ExecuteNonQuery();
        }
    }
}

/// <summary>A message found by the local search.</summary>
/// <param name="Message">The message as stored.</param>
/// <param name="Snippet">Its text around the matches, each match between <see cref="LocalStore.MatchStart"/> and <see cref="LocalStore.MatchEnd"/>.</param>
public sealed record LocalSearchHit(MessageResponse Message, string Snippet);
