using ConnText.Server.Data.Postgres;
using ConnText.Server.Data.Sqlite;
using ConnText.Server.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

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

                services.AddDbContext<ConnTextDbContext, PostgresConnTextDbContext>(o =>
                    o.UseNpgsql(connectionString, npgsql => npgsql.EnableRetryOnFailure(3)));
                break;
        }

        return services;
    }

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
