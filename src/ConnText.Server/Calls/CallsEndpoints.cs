using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using ConnText.Contracts.Calls;
using ConnText.Contracts.Problems;
using ConnText.Server.Auth;
using ConnText.Server.Conversations;
using ConnText.Server.Data;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Calls;

/// <summary>
/// Calls: the lifecycle and signaling relay run over the realtime hub (<c>RealtimeHub.Calls.cs</c>), this folder
/// holds their logic, the ring-timeout sweeper, TURN credentials and the REST routes (ICE servers, history).
/// </summary>
internal static class CallsEndpoints
{
    public const string IceServersPolicy = "calls-ice-servers";
    public const int MaxHistoryPage = 100;

    public static IServiceCollection AddCalls(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSection<CallsOptions>(CallsOptions.Section);
        options.Validate();
        services.Configure<CallsOptions>(configuration.GetSection(CallsOptions.Section));
        services.TryAddScoped<CallCommands>();
        services.TryAddScoped<CallSignals>();
        services.TryAddScoped<PeerSignals>();
        services.TryAddSingleton<CallNotifier>();
        services.TryAddSingleton<SignalRateLimiter>();
        services.TryAddSingleton<LocalDeviceConnections>();
        services.TryAddSingleton<CallsHubFilter>();
        // On the global options: SignalR uses a hub's own HubOptions<THub> filter list only when that hub's options
        // were set explicitly, and replaces it with a copy of the global list otherwise. The realtime hub is the only hub.
        services.Configure<HubOptions>(o => o.AddFilter<CallsHubFilter>());
        services.AddHostedService<CallSweeper>();
        services.AddRateLimiter(limiter => limiter.AddPolicy<string, IceServersRateLimitPolicy>(IceServersPolicy));
        return services;
    }

    public static RouteGroupBuilder MapCallsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/calls").WithTags("Calls");

        group.MapGet("/ice-servers", IceServers).RequireAuthorization(ApiScopes.ReadPolicy).RequireRateLimiting(IceServersPolicy)
            .WithName("GetIceServers")
            .WithSummary("STUN/TURN servers with short-lived TURN credentials")
            .WithDescription("For RTCPeerConnection's iceServers. TURN credentials follow coturn's TURN REST scheme (use-auth-secret) and expire at expiresAt. Rate-limited per user.")
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        group.MapGet("", HistoryAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("ListCalls")
            .WithSummary("Call history of a conversation")
            .WithDescription("Newest first; limit 1 to 100 (default 20); before = the id of the last call of the previous page.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    private static Ok<IceServersResponse> IceServers(ClaimsPrincipal caller, IOptions<CallsOptions> options, TimeProvider time) =>
        TypedResults.Ok(TurnCredentials.IceServers(options.Value, caller.UserId(), time.GetUtcNow()));

    private static async Task<Results<Ok<CallPageResponse>, ValidationProblem, ProblemHttpResult>> HistoryAsync(
        [FromQuery] Guid? conversationId, [FromQuery] Guid? before, [FromQuery] int? limit, ClaimsPrincipal caller, ConnTextDbContext db,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (conversationId is null)
        {
            errors["conversationId"] = ["The conversation whose calls to list is required."];
        }

        if (limit is < 1 or > MaxHistoryPage)
        {
            errors["limit"] = [$"Between 1 and {MaxHistoryPage}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The history request is not valid");
        }

        if (await Membership.FindAsync(db, conversationId!.Value, caller.UserId(), cancellationToken) is null)
        {
            return Membership.NotFound();
        }

        var query = db.Calls.AsNoTracking().Where(c => c.ConversationId == conversationId);
        if (before is { } cursor)
        {
            var cursorCall = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == cursor && c.ConversationId == conversationId, cancellationToken);
            if (cursorCall is null)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["before"] = ["No call with this id in this conversation."] },
                    type: ProblemTypes.Validation, title: "The history request is not valid");
            }

            query = query.Where(c => c.CreatedAt < cursorCall.CreatedAt);
        }

        var take = limit ?? 20;
        var page = await query.OrderByDescending(c => c.CreatedAt).Take(take + 1).ToListAsync(cancellationToken);
        var items = await CallViews.ToResponsesAsync(db, page.Take(take).ToList(), cancellationToken);
        return TypedResults.Ok(new CallPageResponse(items, page.Count > take));
    }
}

/// <summary>Per user: minting credentials is cheap, but a client asking in a loop is a bug or abuse.</summary>
internal sealed class IceServersRateLimitPolicy(IOptions<CallsOptions> options) : IRateLimiterPolicy<string>
{
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (context, cancellationToken) =>
    {
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(10);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context.HttpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Type = ProblemTypes.RateLimited,
                Title = "Too Many Requests",
                Detail = $"Too many ICE server requests. Retry after {seconds} seconds.",
            },
        });
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) => RateLimitPartition.GetSlidingWindowLimiter(
        httpContext.User.Identity?.IsAuthenticated == true ? httpContext.User.UserId().ToString("D") : "anonymous",
        _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = options.Value.IceServersPerMinute,
            Window = TimeSpan.FromMinutes(1),
            SegmentsPerWindow = 6,
            QueueLimit = 0,
        });
}
