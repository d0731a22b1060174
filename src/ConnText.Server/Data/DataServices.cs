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
                services.AddDbContextPool<ConnTextDbContext, SqliteConnTextDbContext>(o => o.UseSqlite(connectionString).AddInterceptors(busyTimeout));
                break;

            case DatabaseProvider.Postgres:
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new StartupException("ConnectionStrings:Default",
                        "the Postgres provider needs a connection string, e.g. \"Host=db;Database=conntext;Username=conntext;Password=...\".");
                }

                connectionString = PostgresConnectionString(connectionString);
                services.AddDbContextPool<ConnTextDbContext, PostgresConnTextDbContext>(o =>
                    o.UseNpgsql(connectionString, npgsql => npgsql.EnableRetryOnFailure(3)));
                break;
        }

        return services;
    }

    /// <summary>
    /// The server's defaults for its PostgreSQL connections, each applied only when the connection string does not set
    /// that keyword itself (in any spelling Npgsql accepts):
    /// <list type="bullet">
    /// <item><c>Max Auto Prepare=100</c>: statements the server runs over and over (a history page, a token look-up, a
    /// send) are prepared on each pooled connection after a few uses, so PostgreSQL parses and plans them once instead
    /// of on every request. <c>Max Auto Prepare=0</c> turns this off, e.g. behind a pooler that does not support
    /// prepared statements.</item>
    /// <item><c>No Reset On Close=true</c>: a connection going back to Npgsql's pool is not reset. With prepared
    /// statements Npgsql cannot reset by <c>DISCARD ALL</c> and instead sends six statements (<c>RESET ALL</c>,
    /// <c>CLOSE ALL</c>, <c>UNLISTEN *</c>, …) ahead of the next query, for every open of every request. The server
    /// leaves no session state behind (no <c>SET</c>, <c>LISTEN</c>, temporary tables or session advisory locks), so
    /// there is nothing to reset.</item>
    /// <item><c>Maximum Pool Size</c> = 2 × the server's processor count + 2 (Npgsql's own default is 100): PostgreSQL
    /// works best with few more active sessions than cores (the PostgreSQL wiki's starting point for a pool is
    /// twice the cores plus the disks). With 100, every request in flight had its own backend process, and on two
    /// cores shared with the server those processes spent their time switching and waiting for each other: 10 M
    /// messages at 1,000 history pages/s cost PostgreSQL 0.88 ms of CPU per page with p99 83 ms, and 0.55 ms with
    /// p99 9.8 ms at 6 connections. Requests beyond the pool wait for a connection (up to the connection string's
    /// <c>Timeout</c>), which is cheaper than waiting in the kernel's run queue. A database on a larger machine of its
    /// own may take more: set <c>Maximum Pool Size</c> in the connection string.</item>
    /// </list>
    /// docs/performance.md ("History paging") has the figures; ADR 0002 the reasons.
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

        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = configured }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!written.Contains("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = AutoPreparedStatements;
        }

        if (!written.Contains("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        if (!written.Contains("MaxPoolSize") && !written.Contains("MaximumPoolSize"))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }

        return builder.ConnectionString;
    }

    /// <summary>How many statements each PostgreSQL connection keeps prepared unless the connection string says.</summary>
    internal const int AutoPreparedStatements = 100;

    /// <summary>The most PostgreSQL connections one server opens unless the connection string says.</summary>
    internal static int DefaultMaxPoolSize => (2 * Environment.ProcessorCount) + 2;

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
