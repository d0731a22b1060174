using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace ConnText.Server.Data.Sqlite;

internal sealed class SqliteConnTextDbContext(DbContextOptions<SqliteConnTextDbContext> options) : ConnTextDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        // Note: SQLite has no date-time type; EF stores DateTimeOffset as text, which cannot be
        // compared or ordered in SQL. Stored as a sortable 64-bit number instead.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>Lets <c>dotnet ef migrations add --context SqliteConnTextDbContext</c> build the model without a host.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteConnTextDbContext>
{
    public SqliteConnTextDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteConnTextDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
