using ConnText.Server.Data.Postgres;
using ConnText.Server.Data.Sqlite;
using ConnText.Server.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnText.Server.Data;

internal static class DataServices
{
    public static IServiceCollection AddData(this IServiceCollection services, IConfiguration configuration, ConnTextOptions host)
    {
        var options = configuration.BindSection<DatabaseOptions>(DatabaseOptions.Section);
        services.Configure<DatabaseOptions>(configuration.GetSection(DatabaseOptions.Section));
        var connectionString = configuration.GetConnectionString("Default");

        switch (options.ParsedProvider)
        {
            case DatabaseProvider.Sqlite:
                connectionString = SqliteConnectionString(connectionString, host.ResolvedDataDirectory);
                var busyTimeout = new SqliteBusyTimeout(new SqliteConnectionStringBuilder(connectionString).DefaultTimeout * 1000);
                services.AddDbContext<ConnTextDbContext, SqliteConnTextDbContext>(o => o.UseSqlite(connectionString).AddInterceptors(busyTimeout));
                break;

            case DatabaseProvider.Postgres:
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new StartupException("ConnectionStrings:Default",
                        "the Postgres provider needs a connection string, e.g. \"Host=db;Database=conntext;Username=conntext;Password=...\".");
                }

                connectionString = PostgresConnectionString(connectionString);
                services.AddDbContext<ConnTextDbContext, PostgresConnTextDbContext>(o =>
                    o.UseNpgsql(connectionString, npgsql => npgsql.EnableRetryOnFailure(3)));
                break;
        }

        return services;
    }

    /// <summary>
    /// Statements the server runs over and over (a history page, a token look-up, a send) are prepared on each pooled
    /// connection after a few uses, so PostgreSQL parses and plans them once instead of on every request
    /// (docs/performance.md, "History paging"). A connection string that sets <c>Max Auto Prepare</c> itself keeps its
    /// value: <c>Max Auto Prepare=0</c> turns this off, e.g. behind a pooler that does not support prepared statements.
    /// </summary>
    internal static string PostgresConnectionString(string configured)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(configured);
        }
        catch (ArgumentException ex)
        {
            throw new StartupException("ConnectionStrings:Default", $"not a valid PostgreSQL connection string ({ex.Message}).", ex);
        }

        var keys = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = configured }.Keys.Cast<string>();
        if (!keys.Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.MaxAutoPrepare = AutoPreparedStatements;
        }

        return builder.ConnectionString;
    }

    /// <summary>How many statements each PostgreSQL connection keeps prepared unless the connection string says.</summary>
    internal const int AutoPreparedStatements = 100;

    /// <summary>The default SQLite database lives in the data directory; a relative Data Source resolves there too.</summary>
    private static string SqliteConnectionString(string? configured, string dataDirectory)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? "" : configured);
        }
        catch (ArgumentException ex)
        {
            throw new StartupException("ConnectionStrings:Default", $"not a valid SQLite connection string ({ex.Message}).", ex);
        }

        if (string.IsNullOrEmpty(builder.DataSource))
        {
            builder.DataSource = "conntext.db";
        }

        if (builder.DataSource != ":memory:" && !Path.IsPathRooted(builder.DataSource))
        {
            builder.DataSource = Path.Combine(dataDirectory, builder.DataSource);
        }

        // Writers wait for each other instead of failing with "database is locked".
        builder.DefaultTimeout = 30;
        builder.Pooling = true;
        return builder.ToString();
    }
}
