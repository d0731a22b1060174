using System.Threading.RateLimiting;
using ConnText.Contracts.Problems;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Realtime;

/// <summary>
/// A token bucket per connection for hub method calls: a client that calls too often is refused with
/// <c>urn:conntext:problem:rate-limited</c> (its connection stays open), and cannot starve the others.
/// </summary>
internal sealed class HubRateLimitFilter(IOptions<RealtimeOptions> options) : IHubFilter
{
    private static readonly object LimiterKey = new();

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var items = invocationContext.Context.Items;
        if (!items.TryGetValue(LimiterKey, out var value) || value is not TokenBucketRateLimiter limiter)
        {
            var settings = options.Value;
            limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = settings.InvocationBurst,
                TokensPerPeriod = settings.InvocationsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
            items[LimiterKey] = limiter;
        }

        using var lease = limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            throw new HubException($"{ProblemTypes.RateLimited}: Too many hub calls on this connection; "
                + $"at most {options.Value.InvocationsPerSecond} per second on average. Try again shortly.");
        }

        return await next(invocationContext);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        try
        {
            await next(context, exception);
        }
        finally
        {
            if (context.Context.Items.TryGetValue(LimiterKey, out var value) && value is IDisposable limiter)
            {
                limiter.Dispose();
            }
        }
    }
}
