using System.Net;
using System.Net.Http.Json;
using System.Text;
using ConnText.Contracts.Problems;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ConnText.Server.Tests.Errors;

/// <summary>Every kind of bad input gets a problem-details answer with a stable type, on each database provider.</summary>
public abstract class ErrorResponsesTests(Provider provider) : IAsyncLifetime
{
    private ServerInstance server = null!;

    private HttpClient Client => server.Client;

    public async Task InitializeAsync() => server = await ServerInstance.StartAsync(provider);

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData("GET", "/no/such/route")]
    [InlineData("POST", "/api/v1/nothing-here")]
    [InlineData("GET", "/api/v2/server")]
    public async Task UnknownRoute_IsNotFoundProblem(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var problem = await response.AssertProblemAsync(404, ProblemTypes.NotFound);
        Assert.Equal(path, problem.GetProperty("instance").GetString());
    }

    [Fact]
    public async Task WrongMethod_IsMethodNotAllowedProblemWithAllowHeader()
    {
        using var response = await Client.DeleteAsync("/api/v1/accounts");
        var problem = await response.AssertProblemAsync(405, ProblemTypes.MethodNotAllowed);
        Assert.Contains("POST", response.Content.Headers.Allow);
        Assert.Contains("DELETE", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"username\": \"alice\",")]
    [InlineData("{\"username\": 42, \"password\": \"long enough password\"}")]
    [InlineData("[1, 2, 3]")]
    [InlineData("not json at all")]
    public async Task MalformedJson_IsMalformedRequestProblemSayingWhere(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/api/v1/accounts", content);
        var problem = await response.AssertProblemAsync(400, ProblemTypes.MalformedRequest);
        Assert.Contains("not valid JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Path: $", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeeplyNestedJson_IsRejectedNotCrashed()
    {
        var body = "{\"username\":" + new string('[', 5000) + new string(']', 5000) + "}";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/api/v1/accounts", content);
        await response.AssertProblemAsync(400, ProblemTypes.MalformedRequest);
    }

    [Fact]
    public async Task MissingBody_IsMalformedRequestProblem()
    {
        using var content = new StringContent("", Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/api/v1/accounts", content);
        var problem = await response.AssertProblemAsync(400, ProblemTypes.MalformedRequest);
        Assert.Equal("This endpoint needs a JSON request body.", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task UnsupportedMediaType_IsProblem(string mediaType)
    {
        using var content = new StringContent("{\"username\":\"alice\"}", Encoding.UTF8, mediaType);
        using var response = await Client.PostAsync("/api/v1/accounts", content);
        await response.AssertProblemAsync(415, ProblemTypes.UnsupportedMediaType);
    }

    [Fact]
    public async Task OversizedBody_IsPayloadTooLargeProblem_AndServerKeepsServing()
    {
        var padding = new string('a', 2 * 1024 * 1024);
        using var content = new StringContent($"{{\"username\":\"{padding}\"}}", Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/api/v1/accounts", content);
        await response.AssertProblemAsync(413, ProblemTypes.PayloadTooLarge);

        using var after = await Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task ValidationFailure_NamesEachFailingField()
    {
        using var response = await Client.PostAsJsonAsync("/api/v1/accounts",
            new { username = "x!", password = "short", displayName = new string('d', 65), email = "not-an-address" });
        var problem = await response.AssertProblemAsync(400, ProblemTypes.Validation);
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "username", "password", "displayName", "email" })
        {
            Assert.True(errors.TryGetProperty(field, out var messages), $"errors names '{field}'");
            Assert.True(messages.GetArrayLength() > 0);
        }
    }

    [Fact]
    public async Task ValidationFailure_StoresNothing()
    {
        using var bad = await Client.PostAsJsonAsync("/api/v1/accounts", new { username = "carol", password = "password" });
        await bad.AssertProblemAsync(400, ProblemTypes.Validation);

        // The name is still free: the refused request left no partial account behind.
        using var good = await Client.PostAsJsonAsync("/api/v1/accounts", new { username = "carol", password = "a much better passphrase" });
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
    }

    [Fact]
    public async Task NulCharacter_InAQueryParameter_IsAnswered_NeverAnInternalError()
    {
        using var alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");

        using var response = await alice.GetAsync("/api/v1/users?q=al%00ice");

        if (provider == Provider.Postgres)
        {
            // PostgreSQL's text cannot hold U+0000, not even as a query's parameter.
            var problem = await response.AssertProblemAsync(400, ProblemTypes.MalformedRequest);
            Assert.Contains("U+0000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task PathTraversalAttempt_IsNotFound()
    {
        using var response = await Client.GetAsync("/api/v1/server/..%2f..%2f..%2fetc%2fpasswd");
        await response.AssertProblemAsync(404, ProblemTypes.NotFound);
    }

    [Fact]
    public async Task HugeHeader_IsRejectedWithoutHarmingTheServer()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.TryAddWithoutValidation("X-Big", new string('h', 64 * 1024));
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);

        using var after = await Client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}

public sealed class SqliteErrorResponsesTests() : ErrorResponsesTests(Provider.Sqlite);

public sealed class PostgresErrorResponsesTests() : ErrorResponsesTests(Provider.Postgres);

/// <summary>An unexpected failure inside a handler is a 500 problem that reveals nothing of the server's internals.</summary>
public sealed class UnexpectedErrorTests
{
    private const string Secret = "connection-string-with-password=hunter2";

    [Theory]
    [InlineData(Provider.Sqlite)]
    [InlineData(Provider.Postgres)]
    public async Task UnhandledException_IsInternalProblemWithoutInternals(Provider provider)
    {
        await using var server = await ServerInstance.StartAsync(provider,
            services: s => s.TryAddSingleton<TimeProvider>(new FailingClock(Secret)));

        using var response = await server.Client.PostAsJsonAsync("/api/v1/accounts",
            new { username = "dave", password = "a long enough passphrase" });
        var problem = await response.AssertProblemAsync(500, ProblemTypes.Internal);
        var body = problem.GetRawText();
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
        Assert.DoesNotContain("FailingClock", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
    }

    private sealed class FailingClock(string message) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => throw new InvalidOperationException(message);
    }
}
