namespace ConnText.Server.Realtime;

/// <summary>
/// One connection's token bucket for hub calls: <c>burst</c> tokens at most, refilled continuously at
/// <c>perSecond</c>. The refill is worked out from the time elapsed when a call arrives, so a connection costs no
/// timer. (<c>TokenBucketRateLimiter</c> with auto-replenishment keeps one timer per limiter; with 10,000 hub
/// connections each timer tick walked all of them, about 5 % of a core in the fan-out benchmark.)
/// </summary>
internal sealed class CallBudget
{
    private readonly TimeProvider time;
    private readonly double perSecond;
    private readonly double burst;
    private readonly Lock sync = new();
    private double tokens;
    private long refilledAt;

    public CallBudget(TimeProvider time, int perSecond, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        this.time = time;
        this.perSecond = perSecond;
        this.burst = burst;
        tokens = burst;
        refilledAt = time.GetTimestamp();
    }

    /// <summary>Takes one token if there is one; false (and nothing taken) when the budget is spent.</summary>
    public bool TryTake()
    {
        lock (sync)
        {
            var now = time.GetTimestamp();
            tokens = Math.Min(burst, tokens + (time.GetElapsedTime(refilledAt, now).TotalSeconds * perSecond));
            refilledAt = now;
            if (tokens < 1)
            {
                return false;
            }

            tokens--;
            return true;
        }
    }
}
