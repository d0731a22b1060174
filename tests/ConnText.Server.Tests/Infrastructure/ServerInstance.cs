using System.Net.Http.Json;
using System.Text.Json;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Infrastructure;

/// <summary>
/// The real server, built exactly as the executable builds it, listening on a free loopback port
/// (real Kestrel, so its limits and TLS are the ones users get), with its own data directory and database.
/// </summary>
public sealed class ServerInstance : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly bool ownsDatabase;

    private ServerInstance(WebApplication app, TestDatabase database, string dataDirectory, Uri address, bool ownsDatabase)
    {
        this.app = app;
        this.ownsDatabase = ownsDatabase;
        Database = database;
        DataDirectory = dataDirectory;
        Address = address;
        Client = new HttpClient { BaseAddress = address };
    }

    public TestDatabase Database { get; }

    public string DataDirectory { get; }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => app.Services;

    public static async Task<ServerInstance> StartAsync(
        Provider provider,
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        TestDatabase? database = null)
    {
        var ownsDatabase = database is null;
        database ??= await TestDatabase.CreateAsync(provider);
        var dataDirectory = Directory.CreateTempSubdirectory("conntext-test-").FullName;
        SharedKeys.CopyInto(dataDirectory);
        var config = BaseSettings(database, dataDirectory);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var app = ServerApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(config);
            services?.Invoke(builder.Services);
        });
        await ServerApp.PrepareAsync(app, CancellationToken.None);
        await ServerApp.StartListeningAsync(app);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServerInstance(app, database, dataDirectory, new Uri(address), ownsDatabase);
    }

    public static Dictionary<string, string?> BaseSettings(TestDatabase database, string dataDirectory)
    {
        var config = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["ConnText:DataDirectory"] = dataDirectory,
            ["ConnText:Database:Provider"] = database.Provider.ToString(),
            ["ConnText:Accounts:PasswordHashIterations"] = "210000",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (database.ConnectionString is not null)
        {
            config["ConnectionStrings:Default"] = database.ConnectionString;
        }

        return config;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        if (ownsDatabase)
        {
            await Database.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open must not fail the test that just passed; the temp dir is cleaned by the OS.
        }
    }
}

public static class ProblemAssertions
{
    /// <summary>Asserts an RFC 9457 response: status, media type, stable type; returns the parsed body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, int status, string type)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(type, json.GetProperty("type").GetString());
        Assert.Equal(status, json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("title").GetString()));
        Assert.True(json.TryGetProperty("traceId", out _), "problem responses carry a traceId");
        return json;
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body) =>
        client.PostAsJsonAsync(path, body);
}

/// <summary>
/// Token keys generated once per test run and copied into each test server's data directory, as an
/// operator restores a data directory: generating the RSA-3072 keys of the external-provider client for every
/// test would dominate run time.
/// ServerExecutableTests covers first-run generation.
/// </summary>
internal static class SharedKeys
{
    private static readonly Lazy<string> Directory = new(Generate);

    public static void CopyInto(string dataDirectory)
    {
        var target = Path.Combine(dataDirectory, "keys");
        System.IO.Directory.CreateDirectory(target);
        foreach (var file in System.IO.Directory.GetFiles(Directory.Value))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    private static string Generate()
    {
        var root = System.IO.Directory.CreateTempSubdirectory("conntext-test-keys-").FullName;
        // The server's own code creates them, exactly as on a first run.
        ConnText.Server.Auth.SigningKeys.LoadOrCreateEcdsa(root, "token-signing-es256");
        ConnText.Server.Auth.SigningKeys.LoadOrCreateSymmetric(root, "token-encryption-a256");
        ConnText.Server.Auth.SigningKeys.LoadOrCreate(root, "client-signing");
        ConnText.Server.Auth.SigningKeys.LoadOrCreate(root, "client-encryption");
        return Path.Combine(root, "keys");
    }
}
