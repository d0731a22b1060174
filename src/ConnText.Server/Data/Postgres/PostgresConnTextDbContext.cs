using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ConnText.Server.Data.Postgres;

internal sealed class PostgresConnTextDbContext(DbContextOptions<PostgresConnTextDbContext> options) : ConnTextDbContext(options);

/// <summary>Lets <c>dotnet ef migrations add --context PostgresConnTextDbContext</c> build the model without a database.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresConnTextDbContext>
{
    public PostgresConnTextDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresConnTextDbContext>().UseNpgsql("Host=design-time").Options);
}
