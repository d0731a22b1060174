using ConnText.Server.Data;
using ConnText.Server.Sessions;
using OpenIddict.Abstractions;

namespace ConnText.Server.Auth;

/// <summary>Ends sessions: marks them revoked and revokes their OpenIddict authorization and every token of it.</summary>
internal sealed class SessionRevoker(
    ConnTextDbContext db,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    IConnectionCutoff cutoff,
    TimeProvider time)
{
    public async Task RevokeAsync(IReadOnlyCollection<Session> sessions, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var session in sessions)
        {
            session.RevokedAt ??= now;
        }

        await db.SaveChangesAsync(cancellationToken);

        foreach (var session in sessions)
        {
            if (session.AuthorizationId is null)
            {
                continue;
            }

            if (await authorizations.FindByIdAsync(session.AuthorizationId, cancellationToken) is { } authorization)
            {
                await authorizations.TryRevokeAsync(authorization, cancellationToken);
            }

            await tokens.RevokeByAuthorizationIdAsync(session.AuthorizationId, cancellationToken);
        }

        await cutoff.SessionsEndedAsync([.. sessions.Select(s => s.Id)]);
    }

    /// <summary>After an account was disabled or deleted and its sessions and tokens revoked: its open connections close too.</summary>
    public Task UserEndedAsync(Guid userId) => cutoff.UserEndedAsync(userId);
}
