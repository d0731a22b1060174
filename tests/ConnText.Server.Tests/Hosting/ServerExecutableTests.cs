using System.Net;
using System.Text.Json;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Hosting;

/// <summary>The executable as operators run it: defaults, JSON logs, SIGTERM, and the migrate command.</summary>
public sealed class ServerExecutableTests : IDisposable
{
    private readonly DirectoryInfo workDir = Directory.CreateTempSubdirectory("conntext-exe-");

    public void Dispose() => workDir.Delete(recursive: true);

    [Fact]
    public async Task DefaultRun_CreatesSqliteInDataDir_LogsJsonWhenAsked_AndStopsCleanlyOnSigterm()
    {
        var port = ServerProcess.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        await using var server = ServerProcess.Start(workDir.FullName, $"--Urls={address}", "--ConnText:LogFormat=Json");
        await server.WaitUntilReadyAsync(address, TimeSpan.FromSeconds(60));

        // Zero-setup default: SQLite in ./data relative to where the server was started.
        Assert.True(File.Exists(Path.Combine(workDir.FullName, "data", "conntext.db")));

        // Token keys are created on first run, readable by the server's user only.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(Path.Combine(workDir.FullName, "data", "keys")));
        foreach (var key in new[] { "token-signing-es256.pem", "token-encryption-a256.key" })
        {
            var path = Path.Combine(workDir.FullName, "data", "keys", key);
            Assert.True(File.Exists(path), path);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        var lines = server.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("LogLevel", out _), line);
        }

        Assert.Contains(lines, l => l.Contains("Application is shutting down", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(Provider.Sqlite)]
    [InlineData(Provider.Postgres)]
    public async Task MigrateCommand_AppliesMigrations_ThenServerStartsWithAutoMigrationOff(Provider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        string[] dbArgs = database.ConnectionString is null
            ? ["--ConnText:Database:Provider=Sqlite"]
            : ["--ConnText:Database:Provider=Postgres", $"--ConnectionStrings:Default={database.ConnectionString}"];

        // Auto-migration off and an empty database: start-up refuses and says what to run.
        var refused = await ServerProcess.RunAsync(workDir.FullName,
            [$"--Urls=http://127.0.0.1:{ServerProcess.FreePort()}", "--ConnText:Database:MigrateOnStartup=false", .. dbArgs]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("migrate", refused.Stderr, StringComparison.Ordinal);

        var first = await ServerProcess.RunAsync(workDir.FullName, ["migrate", .. dbArgs]);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        Assert.Matches(@"Applied \d+ migration\(s\)", first.Stdout);

        var second = await ServerProcess.RunAsync(workDir.FullName, ["migrate", .. dbArgs]);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("up to date", second.Stdout, StringComparison.Ordinal);

        var port = ServerProcess.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        await using var server = ServerProcess.Start(workDir.FullName,
            [$"--Urls={address}", "--ConnText:Database:MigrateOnStartup=false", .. dbArgs]);
        await server.WaitUntilReadyAsync(address, TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = address };
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
