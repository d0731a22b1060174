using ConnText.Server.Data;

namespace ConnText.Server.Hosting;

/// <summary>
/// The server executable's commands: no argument (or <c>serve</c>) runs the server;
/// <c>migrate</c> applies database migrations and exits.
/// </summary>
internal static class ServerCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "serve";
        var hostArgs = command == "serve" && (args.Length == 0 || args[0].StartsWith('-')) ? args : args[1..];

        try
        {
            switch (command)
            {
                case "serve":
                {
                    await using var app = ServerApp.Build(hostArgs);
                    await ServerApp.PrepareAsync(app, CancellationToken.None);
                    await ServerApp.StartListeningAsync(app);
                    await app.WaitForShutdownAsync();
                    return 0;
                }

                case "migrate":
                {
                    await using var app = ServerApp.Build(hostArgs);
                    var applied = await DatabaseSetup.MigrateAsync(app.Services, CancellationToken.None);
                    await Console.Out.WriteLineAsync(applied.Count == 0
                        ? "The database is up to date."
                        : $"Applied {applied.Count} migration(s): {string.Join(", ", applied)}");
                    return 0;
                }

                default:
                    await Console.Error.WriteLineAsync($"Unknown command '{command}'. Commands: serve (default), migrate.");
                    return 2;
            }
        }
        catch (StartupException ex)
        {
            await Console.Error.WriteLineAsync($"ConnText cannot start. {ex.Message}");
            return 2;
        }
    }
}
