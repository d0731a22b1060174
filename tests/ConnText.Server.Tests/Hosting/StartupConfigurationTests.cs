using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Hosting;

/// <summary>
/// Misconfiguration stops start-up with one clear message naming the setting (exit code 2, no stack trace),
/// checked on the real executable.
/// </summary>
public sealed class StartupConfigurationTests : IDisposable
{
    private readonly DirectoryInfo workDir = Directory.CreateTempSubdirectory("conntext-startup-");

    public void Dispose() => workDir.Delete(recursive: true);

    [Fact]
    public async Task UnknownProvider_NamesTheSetting()
    {
        var (code, _, stderr) = await RunAsync("--ConnText:Database:Provider=Oracle");
        AssertOneClearError(code, stderr, "ConnText:Database:Provider", "Oracle");
    }

    [Fact]
    public async Task PostgresWithoutConnectionString_NamesTheSetting()
    {
        var (code, _, stderr) = await RunAsync("--ConnText:Database:Provider=Postgres");
        AssertOneClearError(code, stderr, "ConnectionStrings:Default", "connection string");
    }

    [Fact]
    public async Task UnreachablePostgres_NamesTheSetting()
    {
        var port = ServerProcess.FreePort();
        var (code, _, stderr) = await RunAsync(
            "--ConnText:Database:Provider=Postgres",
            $"--ConnectionStrings:Default=Host=127.0.0.1;Port={port};Username=nobody;Password=x;Timeout=3");
        AssertOneClearError(code, stderr, "ConnectionStrings:Default", "cannot use the Postgres database");
    }

    [Fact]
    public async Task UnwritableDataDirectory_NamesTheSetting()
    {
        // A path below a regular file can never be created, even by root (tests run as root in CI).
        var file = Path.Combine(workDir.FullName, "a-file");
        await File.WriteAllTextAsync(file, "x");
        var (code, _, stderr) = await RunAsync($"--ConnText:DataDirectory={file}/data");
        AssertOneClearError(code, stderr, "ConnText:DataDirectory", "not writable");
    }

    [Fact]
    public async Task WrongTypedSetting_NamesTheSetting()
    {
        var (code, _, stderr) = await RunAsync("--ConnText:Limits:MaxRequestBodyBytes=lots");
        AssertOneClearError(code, stderr, "ConnText:Limits:MaxRequestBodyBytes", "lots");
    }

    [Fact]
    public async Task UnknownLogFormat_NamesTheSetting()
    {
        var (code, _, stderr) = await RunAsync("--ConnText:LogFormat=Xml");
        AssertOneClearError(code, stderr, "ConnText:LogFormat", "Xml");
    }

    [Fact]
    public async Task UnknownCommand_SaysWhichCommandsExist()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync(workDir.FullName, "frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("migrate", stderr, StringComparison.Ordinal);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        ServerProcess.RunAsync(workDir.FullName, [$"--Urls=http://127.0.0.1:{ServerProcess.FreePort()}", .. args]);

    private static void AssertOneClearError(int code, string stderr, string setting, string detail)
    {
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("ConnText cannot start.", line, StringComparison.Ordinal);
        Assert.Contains(setting, line, StringComparison.Ordinal);
        Assert.Contains(detail, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
