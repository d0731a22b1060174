using ConnText.Contracts.Server;
using ConnText.Server.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConnText.Server.Health;

internal static class HealthEndpoints
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddHealthEndpoints(this IServiceCollection services)
    {
        services.AddHealthChecks().AddDbContextCheck<ConnTextDbContext>("database", tags: [ReadyTag]);
        return services;
    }

    public static RouteGroupBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/health").WithTags("Health");

        group.MapGet("/live", () => TypedResults.Ok(new HealthResponse("Healthy", new Dictionary<string, string>())))
            .WithName("Live")
            .WithSummary("Liveness: the process is up and serving requests")
            .WithDescription("Checks nothing else, so an orchestrator restarts the process only when it is stuck.");

        group.MapGet("/ready", ReadyAsync)
            .WithName("Ready")
            .WithSummary("Readiness: the server can do its work (the database answers)")
            .WithDescription("503 with each failing check named when a dependency is down; load balancers stop sending traffic then.")
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);

        return group;
    }

    private static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> ReadyAsync(
        HealthCheckService health, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(c => c.Tags.Contains(ReadyTag), cancellationToken);
        var body = new HealthResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString(), StringComparer.Ordinal));
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Ok(body)
            : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
