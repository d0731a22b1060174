using System.Security.Claims;
using ConnText.Contracts.Problems;
using ConnText.Contracts.Realtime;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using ConnText.Server.Realtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Presence;

/// <summary>Who is online: a user's state over all their devices, visible to the people they share a conversation with.</summary>
internal static class PresenceEndpoints
{
    public const int MaxUsersPerQuery = 100;

    public static IServiceCollection AddPresence(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<NodeIdentity>();
        services.AddSingleton<PresenceTracker>();
        if (RealtimeSetup.RedisConfiguration(configuration) is not null)
        {
            services.AddSingleton<IPresenceStore, RedisPresenceStore>();
            services.AddHostedService<NodeHeartbeat>();
        }
        else
        {
            services.AddSingleton<IPresenceStore, MemoryPresenceStore>();
        }

        return services;
    }

    public static RouteGroupBuilder MapPresenceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/presence").WithTags("Presence");

        group.MapGet("/", GetAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("GetPresence")
            .WithSummary("Presence of users I share a conversation with")
            .WithDescription($"Give up to {MaxUsersPerQuery} userId parameters. Users I share no conversation with are left out; "
                + "a user who hides their presence is offline without a last-seen time.")
            .ProducesValidationProblem();

        group.MapGet("/settings", GetSettingsAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("GetPresenceSettings")
            .WithSummary("Whether I hide my presence");

        group.MapPut("/settings", UpdateSettingsAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("UpdatePresenceSettings")
            .WithSummary("Hide or show my presence")
            .WithDescription("Hidden: others see me offline, with no last-seen time; my own devices still see my state.");

        return group;
    }

    private static async Task<Results<Ok<IReadOnlyList<PresenceResponse>>, ValidationProblem>> GetAsync(
        [FromQuery(Name = "userId")] Guid[]? userIds, ClaimsPrincipal caller, ConnTextDbContext db, IPresenceStore store,
        CancellationToken cancellationToken)
    {
        var wanted = (userIds ?? []).Distinct().ToList();
        if (wanted.Count is 0 or > MaxUsersPerQuery)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["userId"] = [$"Give 1 to {MaxUsersPerQuery} userId parameters."] },
                type: ProblemTypes.Validation, title: "The presence query is not valid");
        }

        var me = caller.UserId();
        var visible = await db.Users.AsNoTracking()
            .Where(u => wanted.Contains(u.Id)
                        && (u.Id == me || db.ConversationMembers.Any(theirs => theirs.UserId == u.Id
                            && db.ConversationMembers.Any(mine => mine.UserId == me && mine.ConversationId == theirs.ConversationId))))
            .Select(u => new { u.Id, u.HidePresence, u.LastSeenAt })
            .ToListAsync(cancellationToken);
        var result = new List<PresenceResponse>(visible.Count);
        foreach (var user in visible.OrderBy(u => wanted.IndexOf(u.Id)))
        {
            if (user.HidePresence && user.Id != me)
            {
                result.Add(new PresenceResponse(user.Id, PresenceStates.Offline, null));
                continue;
            }

            var state = await store.GetStateAsync(user.Id);
            result.Add(new PresenceResponse(user.Id, state, state == PresenceStates.Offline && !user.HidePresence ? user.LastSeenAt : null));
        }

        return TypedResults.Ok<IReadOnlyList<PresenceResponse>>(result);
    }

    private static async Task<Ok<PresenceSettingsResponse>> GetSettingsAsync(ClaimsPrincipal caller, ConnTextDbContext db, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var hidden = await db.Users.Where(u => u.Id == me).Select(u => u.HidePresence).SingleAsync(cancellationToken);
        return TypedResults.Ok(new PresenceSettingsResponse(hidden));
    }

    private static async Task<Ok<PresenceSettingsResponse>> UpdateSettingsAsync(
        PresenceSettingsRequest request, ClaimsPrincipal caller, ConnTextDbContext db, PresenceTracker tracker, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        await db.Users.Where(u => u.Id == me).ExecuteUpdateAsync(u => u.SetProperty(x => x.HidePresence, request.Hidden), cancellationToken);
        await tracker.RefreshAsync(me);
        return TypedResults.Ok(new PresenceSettingsResponse(request.Hidden));
    }
}
