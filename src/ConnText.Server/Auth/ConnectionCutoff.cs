namespace ConnText.Server.Auth;

/// <summary>
/// Told when credentials end, so long-lived connections made with them (the realtime hub) close at once rather
/// than when they next reconnect. The realtime feature implements it; without it nothing is open to close.
/// </summary>
internal interface IConnectionCutoff
{
    Task SessionsEndedAsync(IReadOnlyCollection<Guid> sessionIds);

    Task AccessTokenRevokedAsync(Guid tokenId);

    /// <summary>The account was disabled or deleted: every connection of it closes.</summary>
    Task UserEndedAsync(Guid userId);
}

internal sealed class NoConnectionCutoff : IConnectionCutoff
{
    public Task SessionsEndedAsync(IReadOnlyCollection<Guid> sessionIds) => Task.CompletedTask;

    public Task AccessTokenRevokedAsync(Guid tokenId) => Task.CompletedTask;

    public Task UserEndedAsync(Guid userId) => Task.CompletedTask;
}
