using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnText.Server.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class MessageFlags : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "HasAttachments",
                table: "messages",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "HasMentions",
                table: "messages",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "HasReactions",
                table: "messages",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            // Messages stored before this migration: only those with reactions, mentions or files are touched.
            migrationBuilder.Sql("""
                UPDATE messages SET "HasReactions" = 1 WHERE EXISTS (SELECT 1 FROM message_reactions AS r WHERE r."MessageId" = messages."Id");
                UPDATE messages SET "HasMentions" = 1 WHERE EXISTS (SELECT 1 FROM message_mentions AS x WHERE x."MessageId" = messages."Id");
                UPDATE messages SET "HasAttachments" = 1 WHERE EXISTS (SELECT 1 FROM message_attachments AS a WHERE a."MessageId" = messages."Id");
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // SQLite's own DROP COLUMN, not EF's table rebuild: a rebuild would drop the full-text triggers on messages
            // (SearchSchema), which EF does not know about.
            migrationBuilder.Sql("""
                ALTER TABLE messages DROP COLUMN "HasAttachments";
                ALTER TABLE messages DROP COLUMN "HasMentions";
                ALTER TABLE messages DROP COLUMN "HasReactions";
                """);
        }
    }
}
