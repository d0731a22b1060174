using System.Security.Claims;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ConnText.Server.Sessions;

internal static class SessionsEndpoints
{
    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.TryAddScoped<SessionRevoker>();
        return services;
    }

    public static RouteGroupBuilder MapSessionsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/sessions").WithTags("Sessions");

        group.MapGet("/", ListAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("ListSessions")
            .WithSummary("List my signed-in devices")
            .WithDescription("Active sessions, most recently used first; the caller's own is marked current.");

        // Signing devices out is credential management: an app's own login, not a personal access token.
        group.MapDelete("/{id:guid}", RevokeAsync).RequireAuthorization(ApiScopes.InteractivePolicy)
            .WithName("RevokeSession")
            .WithSummary("Sign a device out")
            .WithDescription("Revokes the session and all its tokens; the device's next request is refused.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/revoke-others", RevokeOthersAsync).RequireAuthorization(ApiScopes.InteractivePolicy)
            .WithName("RevokeOtherSessions")
            .WithSummary("Sign out every other device")
            .WithDescription("Revokes all of my sessions except the one making this request.");

        return group;
    }

    private static async Task<Ok<List<SessionResponse>>> ListAsync(ClaimsPrincipal user, ConnTextDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (userId, current) = (user.UserId(), user.SessionId());
        var now = time.GetUtcNow();
        var sessions = await db.Sessions.AsNoTracking()
            .Where(s => s.UserId == userId && s.RevokedAt == null && s.ExpiresAt > now)
            .OrderByDescending(s => s.LastSeenAt)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(sessions.Select(s => new SessionResponse(
            s.Id, s.DeviceName, s.Platform, s.ClientId, s.IpAddress, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.Id == current)).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        Guid id, ClaimsPrincipal user, ConnTextDbContext db, SessionRevoker revoker, CancellationToken cancellationToken)
    {
        var userId = user.UserId();
        // Another user's session id answers exactly like a missing one: ids are not confirmed to strangers.
        var session = await db.Sessions.FirstOrDefaultAsync(s => s.Id == id && s.UserId == userId && s.RevokedAt == null, cancellationToken);
        if (session is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
                title: "Not Found", detail: "You have no active session with this id.");
        }

        await revoker.RevokeAsync([session], cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<int>> RevokeOthersAsync(ClaimsPrincipal user, ConnTextDbContext db, SessionRevoker revoker, CancellationToken cancellationToken)
    {
        var (userId, current) = (user.UserId(), user.SessionId());
        var others = await db.Sessions.Where(s => s.UserId == userId && s.RevokedAt == null && s.Id != current).ToListAsync(cancellationToken);
        await revoker.RevokeAsync(others, cancellationToken);
        return TypedResults.Ok(others.Count);
    }
}
