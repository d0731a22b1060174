using System.Collections.Concurrent;

namespace ConnText.Server.AccessTokens;

/// <summary>
/// Remembers, per node, which tokens had their last use written recently. Requests authenticating with one token at
/// the same moment (a bot's reconnect wave, a script's parallel calls) all read the same old <c>LastUsedAt</c>;
/// only the first of them writes. Across nodes the conditional UPDATE keeps it to one row change per interval.
/// </summary>
internal sealed class LastUseRecorder
{
    private const int PruneAbove = 10_000;
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> claimedUntil = new();

    /// <summary>True when this request should write the token's last use (and has claimed it for the interval).</summary>
    public bool TryClaim(Guid tokenId, DateTimeOffset? storedLastUse, DateTimeOffset now, TimeSpan interval)
    {
        if (storedLastUse is { } stored && now - stored < interval)
        {
            return false;
        }

        var until = now + interval;
        while (true)
        {
            if (claimedUntil.TryGetValue(tokenId, out var current))
            {
                if (current > now)
                {
                    return false;
                }

                if (claimedUntil.TryUpdate(tokenId, until, current))
                {
                    return true;
                }
            }
            else if (claimedUntil.TryAdd(tokenId, until))
            {
                Prune(now);
                return true;
            }
        }
    }

    /// <summary>Forgets a claim whose write failed, so the next request tries again.</summary>
    public void Release(Guid tokenId) => claimedUntil.TryRemove(tokenId, out _);

    private void Prune(DateTimeOffset now)
    {
        if (claimedUntil.Count <= PruneAbove)
        {
            return;
        }

        foreach (var (id, until) in claimedUntil)
        {
            if (until <= now)
            {
                claimedUntil.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(id, until));
            }
        }
    }
}
