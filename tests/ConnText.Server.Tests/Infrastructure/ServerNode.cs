namespace ConnText.Server.Tests.Infrastructure;

/// <summary>
/// The server as a separate process (the built executable), on a fixed port and its own data directory with the
/// shared test keys: several nodes on one database accept each other's tokens, and a node can be killed and restarted.
/// </summary>
public sealed class ServerNode : IAsyncDisposable
{
    private readonly string[] args;
    private ServerProcess? process;

    private ServerNode(TestDatabase database, string dataDirectory, int port, IDictionary<string, string?> settings)
    {
        DataDirectory = dataDirectory;
        Address = new Uri($"http://127.0.0.1:{port}");
        var config = ServerInstance.BaseSettings(database, dataDirectory);
        config["Urls"] = Address.ToString().TrimEnd('/');
        foreach (var (key, value) in settings)
        {
            config[key] = value;
        }

        args = [.. config.Select(p => $"--{p.Key}={p.Value}")];
    }

    public Uri Address { get; }

    public string DataDirectory { get; }

    public string Output => process is null ? "" : process.StandardError + process.StandardOutput;

    public static async Task<ServerNode> StartAsync(TestDatabase database, IDictionary<string, string?>? settings = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("conntext-node-").FullName;
        SharedKeys.CopyInto(dataDirectory);
        var node = new ServerNode(database, dataDirectory, ServerProcess.FreePort(), settings ?? new Dictionary<string, string?>());
        await node.StartAsync();
        return node;
    }

    public async Task StartAsync()
    {
        process = ServerProcess.Start(DataDirectory, args);
        await process.WaitUntilReadyAsync(Address, TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGKILL, then nothing: <see cref="StartAsync"/> brings it back on the same port and data.</summary>
    public async Task KillAsync()
    {
        if (process is not null)
        {
            await process.KillAsync();
            await process.DisposeAsync();
            process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open: left in the temp folder rather than failing the test.
        }
    }
}
