using ConnText.Contracts.Problems;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Realtime;

/// <summary>
/// A token bucket per connection for hub method calls: a client that calls too often is refused with
/// <c>urn:conntext:problem:rate-limited</c> (its connection stays open), and cannot starve the others.
/// </summary>
internal sealed class HubRateLimitFilter(IOptions<RealtimeOptions> options, TimeProvider time) : IHubFilter
{
    private static readonly object BudgetKey = new();

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var items = invocationContext.Context.Items;
        if (!items.TryGetValue(BudgetKey, out var value) || value is not CallBudget budget)
        {
            var settings = options.Value;
            budget = new CallBudget(time, settings.InvocationsPerSecond, settings.InvocationBurst);
            items[BudgetKey] = budget;
        }

        if (!budget.TryTake())
        {
            throw new HubException($"{ProblemTypes.RateLimited}: Too many hub calls on this connection; "
                + $"at most {options.Value.InvocationsPerSecond} per second on average. Try again shortly.");
        }

        return await next(invocationContext);
    }
}
