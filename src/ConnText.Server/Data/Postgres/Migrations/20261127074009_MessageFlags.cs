using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnText.Server.Data.Postgres.Migrations
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
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "HasMentions",
                table: "messages",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "HasReactions",
                table: "messages",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            // Messages stored before this migration: only those with reactions, mentions or files are touched.
            migrationBuilder.Sql("""
                UPDATE messages SET "HasReactions" = TRUE WHERE EXISTS (SELECT 1 FROM message_reactions AS r WHERE r."MessageId" = messages."Id");
                UPDATE messages SET "HasMentions" = TRUE WHERE EXISTS (SELECT 1 FROM message_mentions AS x WHERE x."MessageId" = messages."Id");
                UPDATE messages SET "HasAttachments" = TRUE WHERE EXISTS (SELECT 1 FROM message_attachments AS a WHERE a."MessageId" = messages."Id");
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "HasAttachments",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "HasMentions",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "HasReactions",
                table: "messages");
        }
    }
}
