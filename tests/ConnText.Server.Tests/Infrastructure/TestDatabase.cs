using System.Globalization;
using Npgsql;

namespace ConnText.Server.Tests.Infrastructure;

public enum Provider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A database owned by one test: a fresh SQLite file, or a fresh database on the PostgreSQL server
/// that scripts/test.sh starts (CONNTEXT_TEST_POSTGRES). Each test gets its own, so order never matters.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100", Justification = "Database names are generated GUIDs, never input.")]
public sealed class TestDatabase : IAsyncDisposable
{
    private const string PostgresVariable = "CONNTEXT_TEST_POSTGRES";

    private TestDatabase(Provider provider, string? connectionString, string? postgresName)
    {
        Provider = provider;
        ConnectionString = connectionString;
        PostgresName = postgresName;
    }

    public Provider Provider { get; }

    /// <summary>Null for SQLite: the server's default (a file in its data directory) is what is tested.</summary>
    public string? ConnectionString { get; }

    public string? PostgresName { get; }

    public static string PostgresAdminConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set. Run the tests with scripts/test.sh, which starts a throwaway PostgreSQL server.");

    public static async Task<TestDatabase> CreateAsync(Provider provider)
    {
        if (provider == Provider.Sqlite)
        {
            return new TestDatabase(provider, null, null);
        }

        var name = "ct_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);
        await using (var connection = new NpgsqlConnection(PostgresAdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(PostgresAdminConnectionString) { Database = name };
        return new TestDatabase(provider, builder.ConnectionString, name);
    }

    /// <summary>Drops the database under a running server (to test how it reports an outage).</summary>
    public async Task DropAsync()
    {
        if (PostgresName is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(PostgresAdminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{PostgresName}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync() => await DropAsync();
}
