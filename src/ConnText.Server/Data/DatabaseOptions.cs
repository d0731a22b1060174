namespace ConnText.Server.Data;

internal enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Settings under <c>ConnText:Database</c>; the connection string is <c>ConnectionStrings:Default</c>.</summary>
internal sealed class DatabaseOptions
{
    public const string Section = "ConnText:Database";

    /// <summary><c>Sqlite</c> (default; a file in the data directory) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    /// <summary>Apply pending migrations when the server starts. Off: run <c>ConnText.Server migrate</c> yourself.</summary>
    public bool MigrateOnStartup { get; set; } = true;

    public DatabaseProvider ParsedProvider =>
        Enum.TryParse<DatabaseProvider>(Provider, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new Hosting.StartupException($"{Section}:Provider",
                $"unknown database provider '{Provider}'. Use Sqlite or Postgres.");
}
