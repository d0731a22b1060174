using ConnText.Server.Hosting;
using StackExchange.Redis;

namespace ConnText.Server.Realtime;

/// <summary>Carries envelopes to every node's <see cref="RealtimeConnections"/>, this node's included.</summary>
internal interface IRealtimeBus
{
    /// <summary>Never throws: the change behind the envelope is already stored, and clients converge by sequence anyway.</summary>
    Task PublishAsync(RealtimeEnvelope envelope);
}

/// <summary>One node: envelopes go straight to this node's connections.</summary>
internal sealed class LocalRealtimeBus(RealtimeConnections connections) : IRealtimeBus
{
    public Task PublishAsync(RealtimeEnvelope envelope)
    {
        connections.Dispatch(envelope);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Several nodes: envelopes go through one Redis pub/sub channel that every node (this one included) subscribes
/// to, so every node sees them in the order Redis delivered them. The subscriber only queues into the connections'
/// own bounded queues, so one slow client never holds up the channel (as the SignalR Redis backplane's per-group
/// writes would: ADR 0011).
/// </summary>
internal sealed partial class RedisRealtimeBus(
    RedisConnection redis, RealtimeConnections connections, ILogger<RedisRealtimeBus> logger) : IRealtimeBus, IHostedService
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("conntext:realtime");

    public async Task PublishAsync(RealtimeEnvelope envelope)
    {
        try
        {
            var multiplexer = await redis.GetAsync();
            await multiplexer.GetSubscriber().PublishAsync(Channel, RealtimeEnvelopeJson.Serialize(envelope));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPublishFailed(logger, ex);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ConnectionMultiplexer multiplexer;
        try
        {
            multiplexer = await redis.GetAsync();
        }
        catch (RedisConnectionException ex)
        {
            // Fail at start with the setting's name rather than run a node that cannot reach the others.
            throw new StartupException("ConnText:Redis", $"cannot connect to Redis: {ex.Message}", ex);
        }

        var queue = await multiplexer.GetSubscriber().SubscribeAsync(Channel);
        queue.OnMessage(message =>
        {
            if (RealtimeEnvelopeJson.Deserialize((byte[])message.Message!) is { } envelope)
            {
                connections.Dispatch(envelope);
            }
            else
            {
                LogUnreadable(logger);
            }
        });
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var multiplexer = await redis.GetAsync();
        await multiplexer.GetSubscriber().UnsubscribeAsync(Channel);
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Warning, Message = "Could not publish a realtime event to Redis; clients catch up by sequence")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "Skipped an unreadable realtime envelope from Redis")]
    private static partial void LogUnreadable(ILogger logger);
}

/// <summary>The one Redis connection of this node (<c>ConnText:Redis</c>), made on first use and shared.</summary>
internal sealed class RedisConnection(string configuration) : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> multiplexer = new(() => ConnectionMultiplexer.ConnectAsync(configuration));

    public Task<ConnectionMultiplexer> GetAsync() => multiplexer.Value;

    public async ValueTask DisposeAsync()
    {
        if (multiplexer.IsValueCreated)
        {
            await (await multiplexer.Value).DisposeAsync();
        }
    }
}
