using Microsoft.AspNetCore.SignalR.Client;

namespace ConnText.Client.Sessions;

/// <summary>Reconnects without giving up (a laptop can be offline for hours): 0, 1, 2, 5 s, then every 5 s.</summary>
internal sealed class RetryForever : IRetryPolicy
{
    private static readonly TimeSpan[] Delays = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
        Delays[(int)Math.Min(retryContext.PreviousRetryCount, Delays.Length - 1)];
}
