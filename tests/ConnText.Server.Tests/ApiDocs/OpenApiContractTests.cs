using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.ApiDocs;

/// <summary>
/// The OpenAPI document is the REST contract. It is committed as ApiDocs/openapi-v1.json; a change to the
/// live document fails this test until the committed file is updated on purpose
/// (CONNTEXT_ACCEPT_OPENAPI=1 scripts/test.sh --filter OpenApi rewrites it).
/// </summary>
public sealed class OpenApiContractTests : IAsyncLifetime
{
    private ServerInstance server = null!;

    public async Task InitializeAsync() => server = await ServerInstance.StartAsync(Provider.Sqlite);

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Document_MatchesTheCommittedContract()
    {
        var live = Normalize(await server.Client.GetStringAsync("/openapi/v1.json"));
        var committedPath = Path.Combine(SourceDirectory(), "ApiDocs", "openapi-v1.json");

        if (Environment.GetEnvironmentVariable("CONNTEXT_ACCEPT_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(committedPath, live);
        }

        Assert.True(File.Exists(committedPath), $"Missing {committedPath}; run with CONNTEXT_ACCEPT_OPENAPI=1 to create it.");
        var committed = await File.ReadAllTextAsync(committedPath);
        if (committed != live)
        {
            var actualPath = Path.ChangeExtension(committedPath, ".actual.json");
            await File.WriteAllTextAsync(actualPath, live);
            Assert.Fail($"The OpenAPI document changed. Compare {actualPath} with {committedPath}; " +
                        "if the change is intended, rerun with CONNTEXT_ACCEPT_OPENAPI=1 and commit the file.");
        }
    }

    [Fact]
    public async Task EveryOperation_HasSummaryTagsAndResponses()
    {
        var document = JsonNode.Parse(await server.Client.GetStringAsync("/openapi/v1.json"))!;
        var operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => (Name: $"{op.Key.ToUpperInvariant()} {path.Key}", Op: op.Value!)))
            .ToList();

        Assert.Contains(operations, o => o.Name == "POST /api/v1/accounts");
        Assert.Contains(operations, o => o.Name == "GET /health/ready");
        foreach (var (name, op) in operations)
        {
            Assert.False(string.IsNullOrWhiteSpace(op["summary"]?.GetValue<string>()), $"{name} has a summary");
            Assert.NotEmpty(op["tags"]!.AsArray());
            Assert.NotEmpty(op["responses"]!.AsObject());
            Assert.False(string.IsNullOrWhiteSpace(op["operationId"]?.GetValue<string>()), $"{name} has an operationId");
        }

        Assert.NotNull(document["components"]?["securitySchemes"]?["OAuth2"]);
    }

    [Fact]
    public async Task ApiReference_IsServedAtDocs()
    {
        using var response = await server.Client.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("openapi/v1.json", html, StringComparison.Ordinal);

        // The reference UI is bundled with the server: it works offline and under the strict CSP.
        using var script = await server.Client.GetAsync("/docs/scalar.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000);
    }

    private static string Normalize(string json)
    {
        var document = JsonNode.Parse(json)!.AsObject();
        // The server list holds the address this test server happened to bind: deployment, not contract.
        document.Remove("servers");
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static string SourceDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ConnText.Server.Tests.csproj")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException("The test project's source directory was not found.");
    }
}
