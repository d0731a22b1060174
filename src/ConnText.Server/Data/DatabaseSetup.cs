using System.Data.Common;
using ConnText.Server.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Data;

/// <summary>Start-up database work: reachability check and migrations, with errors that name the setting.</summary>
internal static partial class DatabaseSetup
{
    public static async Task PrepareAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (options.MigrateOnStartup)
        {
            await MigrateAsync(services, cancellationToken);
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        // A SQLite file that does not exist yet is an empty database, not an unreachable one.
        var canConnect = options.ParsedProvider == DatabaseProvider.Sqlite
            || await Guard(options, () => db.Database.CanConnectAsync(cancellationToken));
        if (!canConnect)
        {
            throw Unreachable(options, "the server did not accept a connection");
        }

        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            throw new StartupException($"{DatabaseOptions.Section}:MigrateOnStartup",
                $"the database is missing {pending.Count} migration(s) and automatic migration is off. Run 'ConnText.Server migrate' first.");
        }
    }

    /// <summary>Applies pending migrations and returns their names.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnTextDbContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseSetup));

        return await Guard(options, async () =>
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                LogMigrating(logger, pending.Count, options.ParsedProvider);
                await db.Database.MigrateAsync(cancellationToken);
            }

            return (IReadOnlyList<string>)pending;
        });
    }

    private static async Task<T> Guard<T>(DatabaseOptions options, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException)
        {
            // EF wraps transient Npgsql failures in InvalidOperationException ("An exception has been
            // raised that is likely due to a transient failure"); the innermost message is the useful one.
            throw Unreachable(options, Innermost(ex).Message, ex);
        }
    }

    private static StartupException Unreachable(DatabaseOptions options, string reason, Exception? inner = null) =>
        new("ConnectionStrings:Default",
            $"cannot use the {options.ParsedProvider} database it names: {reason}. Check the connection string and that the database server is running.",
            inner);

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Applying {Count} migration(s) to the {Provider} database")]
    private static partial void LogMigrating(ILogger logger, int count, DatabaseProvider provider);
}
