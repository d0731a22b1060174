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

        // The app's own login registers its device key; a personal access token has no session to register it for.
        group.MapPut("/current/device-key", RegisterDeviceKeyAsync).RequireAuthorization(ApiScopes.InteractivePolicy)
            .WithName("RegisterDeviceKey")
            .WithSummary("Register this device's public key")
            .WithDescription("The desktop app's device identity: a self-signed X.509 certificate with an ECDSA P-256 key, "
                + "created on the device and never leaving it. Stored with the calling session; registering the same key "
                + "again is harmless, a different key for the same session is refused (a new key needs a new sign-in).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);

        return group;
    }

    private static async Task<Results<Ok<DeviceKeyResponse>, ValidationProblem, ProblemHttpResult>> RegisterDeviceKeyAsync(
        DeviceKeyRequest request, ClaimsPrincipal user, ConnTextDbContext db, CancellationToken cancellationToken)
    {
        if (!DeviceKeys.TryRead(request.Certificate, out var publicKey, out var error))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["certificate"] = [error] },
                type: ProblemTypes.Validation, title: "The device key is not valid");
        }

        var (userId, current) = (user.UserId(), user.SessionId());
        var encoded = Convert.ToBase64String(publicKey);
        // Conditional: two registrations racing cannot both set different keys.
        var set = await db.Sessions.Where(s => s.Id == current && s.UserId == userId && s.RevokedAt == null && s.DevicePublicKey == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.DevicePublicKey, encoded), cancellationToken);
        if (set == 0)
        {
            var stored = await db.Sessions.AsNoTracking().Where(s => s.Id == current && s.UserId == userId && s.RevokedAt == null)
                .Select(s => new { s.DevicePublicKey }).FirstOrDefaultAsync(cancellationToken);
            if (stored is null)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
                    title: "Not Found", detail: "This token belongs to no active session.");
            }

            if (stored.DevicePublicKey != encoded)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict, title: "Conflict",
                    detail: "This session already has a different device key; sign in again to register a new one.");
            }
        }

        return TypedResults.Ok(new DeviceKeyResponse(DeviceKeys.Fingerprint(encoded)));
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
            s.Id, s.DeviceName, s.Platform, s.ClientId, s.IpAddress, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.Id == current,
            s.DevicePublicKey is null ? null : DeviceKeys.Fingerprint(s.DevicePublicKey))).ToList());
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
