using Microsoft.EntityFrameworkCore.Migrations;

namespace ConnText.Server.Search;

/// <summary>
/// The full-text indexes, created by the AddMessageSearch migrations. They live outside the EF model on purpose:
/// EF would read the generated tsvector back after every insert, and it has no notion of FTS5 tables or triggers.
/// A migration regenerated from the model must call these again (docs/adr/0012).
/// </summary>
internal static class SearchSchema
{
    /// <summary>
    /// PostgreSQL: a stored generated <c>tsvector</c> with the language-neutral <c>simple</c> configuration (lower-cased
    /// words, no stemming, no stop words: messages come in every language, and it matches SQLite's tokenizer), and a GIN
    /// index. A deleted message has no text, so an empty vector: it is never found.
    /// </summary>
    public static void CreatePostgres(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE messages ADD COLUMN "SearchVector" tsvector
                GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce("Text", ''))) STORED;
            CREATE INDEX "IX_messages_SearchVector" ON messages USING GIN ("SearchVector");
            """);
    }

    public static void DropPostgres(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            DROP INDEX IF EXISTS "IX_messages_SearchVector";
            ALTER TABLE messages DROP COLUMN IF EXISTS "SearchVector";
            """);
    }

    /// <summary>
    /// SQLite: an FTS5 external-content table over <c>messages.Text</c> (the text is stored once, in messages), kept in
    /// step by triggers. Only live text is indexed (Text not null, not deleted), and a trigger removes exactly what it
    /// once added, as external-content tables require. Diacritics are kept (<c>remove_diacritics 0</c>) to behave like
    /// PostgreSQL's <c>simple</c> configuration. Note: the index is keyed by the messages table's rowid; a migration that
    /// rebuilds <c>messages</c> on SQLite (EF does for some column changes) drops these triggers and renumbers rows, so it must
    /// call <see cref="CreateSqlite"/> again after the rebuild.
    /// </summary>
    public static void CreateSqlite(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE VIRTUAL TABLE messages_fts USING fts5(
                "Text", content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0');
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
            WHEN new."Text" IS NOT NULL AND new."DeletedAt" IS NULL
            BEGIN
                INSERT INTO messages_fts(rowid, "Text") VALUES (new.rowid, new."Text");
            END;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
            WHEN old."Text" IS NOT NULL AND old."DeletedAt" IS NULL
            BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, "Text") VALUES ('delete', old.rowid, old."Text");
            END;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER messages_fts_update AFTER UPDATE OF "Text", "DeletedAt" ON messages
            BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, "Text")
                    SELECT 'delete', old.rowid, old."Text" WHERE old."Text" IS NOT NULL AND old."DeletedAt" IS NULL;
                INSERT INTO messages_fts(rowid, "Text")
                    SELECT new.rowid, new."Text" WHERE new."Text" IS NOT NULL AND new."DeletedAt" IS NULL;
            END;
            """);
        // Messages stored before this migration.
        migrationBuilder.Sql("""
            INSERT INTO messages_fts(rowid, "Text") SELECT rowid, "Text" FROM messages WHERE "Text" IS NOT NULL AND "DeletedAt" IS NULL;
            """);
    }

    public static void DropSqlite(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("DROP TRIGGER IF EXISTS messages_fts_update;");
        migrationBuilder.Sql("DROP TRIGGER IF EXISTS messages_fts_delete;");
        migrationBuilder.Sql("DROP TRIGGER IF EXISTS messages_fts_insert;");
        migrationBuilder.Sql("DROP TABLE IF EXISTS messages_fts;");
    }
}
