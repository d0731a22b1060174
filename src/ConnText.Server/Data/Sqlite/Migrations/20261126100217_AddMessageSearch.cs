using ConnText.Server.Search;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnText.Server.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class AddMessageSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-written: the full-text index is outside the EF model (see SearchSchema).
            SearchSchema.CreateSqlite(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            SearchSchema.DropSqlite(migrationBuilder);
        }
    }
}
