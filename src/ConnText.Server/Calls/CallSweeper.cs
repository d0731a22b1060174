using Microsoft.Extensions.Options;

namespace ConnText.Server.Calls;

/// <summary>
/// Ends calls whose ring deadline passed (missed) and drops devices whose disconnect grace passed. Runs on every
/// node; the conditional UPDATEs in <see cref="CallCommands"/> make each ending happen once.
/// </summary>
internal sealed partial class CallSweeper(IServiceScopeFactory scopes, IOptions<CallsOptions> options, TimeProvider time, ILogger<CallSweeper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<CallCommands>().SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // a failed sweep (database briefly away) is retried on the next tick
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogSweepFailed(ex);
            }
        }
    }

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "Call sweep failed; retrying on the next tick")]
    private partial void LogSweepFailed(Exception exception);
}
