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

    [Theory]
    [InlineData("ConnText:Limits:MaxRequestBodyBytes", "0")]
    [InlineData("ConnText:Limits:MaxRequestHeadersTotalBytes", "99999999")]
    [InlineData("ConnText:ShutdownTimeoutSeconds", "-1")]
    [InlineData("ConnText:Accounts:PasswordHashIterations", "1000")]
    [InlineData("ConnText:Accounts:PasswordHashCpuShare", "0")]
    [InlineData("ConnText:Accounts:PasswordHashCpuShare", "1.5")]
    [InlineData("ConnText:Accounts:PasswordHashMaxWaitSeconds", "0")]
    [InlineData("ConnText:Accounts:RegistrationMode", "7")]
    [InlineData("ConnText:Accounts:RegistrationMode", "Sometimes")]
    public async Task OutOfRangeSetting_NamesTheSetting(string key, string value)
    {
        var (code, _, stderr) = await RunAsync($"--{key}={value}");
        AssertOneClearError(code, stderr, key.Split(':')[^1], "");
    }

    [Fact]
    public async Task PortInUse_NamesTheSetting()
    {
        using var occupied = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((System.Net.IPEndPoint)occupied.LocalEndpoint).Port;
        var (code, _, stderr) = await ServerProcess.RunAsync(workDir.FullName, $"--Urls=http://127.0.0.1:{port}");
        AssertOneClearError(code, stderr, "Urls", "cannot listen");
    }

    [Fact]
    public async Task MissingCertificateFile_NamesTheSetting()
    {
        var (code, _, stderr) = await ServerProcess.RunAsync(workDir.FullName,
            $"--Kestrel:Endpoints:Https:Url=https://127.0.0.1:{ServerProcess.FreePort()}",
            $"--Kestrel:Endpoints:Https:Certificate:Path={workDir.FullName}/missing.pfx");
        AssertOneClearError(code, stderr, "Kestrel:Endpoints", "missing.pfx");
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
