using ConnText.Contracts.Conversations;
using ConnText.Contracts.Realtime;
using ConnText.Server.Hosting;
using ConnText.Server.Messages;
using ConnText.Server.Auth;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ConnText.Server.Realtime;

/// <summary>The realtime hub: SignalR at <c>/hubs/realtime</c>, its handshake checks, and the push of committed events.</summary>
internal static class RealtimeSetup
{
    public const string HubPath = "/hubs/realtime";

    /// <summary>
    /// A hub message (one invocation) larger than this closes the connection: room for the longest allowed
    /// message text even when every character is JSON-escaped as <c>\uXXXX</c> (6 bytes), plus the envelope;
    /// at least 64 KiB.
    /// </summary>
    public static long MaxReceiveMessageBytes(int maxMessageChars) => Math.Max(64 * 1024, (maxMessageChars * 6L) + (4 * 1024));

    /// <summary>The StackExchange.Redis configuration string of <c>ConnText:Redis</c>; null for a single node.</summary>
    public static string? RedisConfiguration(IConfiguration configuration) =>
        configuration["ConnText:Redis"] is { Length: > 0 } redis ? redis : null;

    public static IServiceCollection AddRealtime(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSection<RealtimeOptions>(RealtimeOptions.Section);
        var messaging = configuration.BindSection<Conversations.MessagingOptions>(Conversations.MessagingOptions.Section);
        foreach (var origin in options.AllowedOrigins)
        {
            if (NormalizeOrigin(origin) is null)
            {
                throw new StartupException("ConnText:Realtime:AllowedOrigins",
                    $"'{origin}' is not an origin: give scheme://host[:port], e.g. https://chat.example.com.");
            }
        }

        Require(options.SendQueueLimit >= 10, "SendQueueLimit", "at least 10");
        Require(options.InvocationsPerSecond >= 1, "InvocationsPerSecond", "at least 1");
        Require(options.InvocationBurst >= options.InvocationsPerSecond, "InvocationBurst", "at least InvocationsPerSecond");
        Require(options.TypingThrottleMilliseconds >= 0, "TypingThrottleMilliseconds", "0 or more");
        Require(options.TypingExpiresAfterMilliseconds >= 1000, "TypingExpiresAfterMilliseconds", "at least 1000");
        Require(options.ExpirySweepSeconds >= 1, "ExpirySweepSeconds", "at least 1");

        services.Configure<RealtimeOptions>(configuration.GetSection(RealtimeOptions.Section));
        var signalR = services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = MaxReceiveMessageBytes(messaging.MaxMessageChars);
            o.EnableDetailedErrors = false;
            o.AddFilter<HubRateLimitFilter>();
        }).AddMessagePackProtocol();

        services.AddSingleton<RealtimeConnections>();
        var redis = RedisConfiguration(configuration);
        if (redis is not null)
        {
            // SignalR's own backplane carries what goes through SignalR groups and users (call signaling);
            // conversation events, typing, receipts and presence go through RedisRealtimeBus (ADR 0011).
            signalR.AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = RedisChannel.Literal("conntext:signalr"));
            services.AddSingleton(_ => new RedisConnection(redis)); // the container disposes it
            services.AddSingleton<RedisRealtimeBus>();
            services.AddSingleton<IRealtimeBus>(sp => sp.GetRequiredService<RedisRealtimeBus>());
            services.AddHostedService(sp => sp.GetRequiredService<RedisRealtimeBus>());
            services.AddSingleton<HubLifetimeManager<RealtimeHub>>(sp => new TrackingHubLifetimeManager(
                ActivatorUtilities.CreateInstance<RedisHubLifetimeManager<RealtimeHub>>(sp), sp.GetRequiredService<RealtimeConnections>()));
        }
        else
        {
            services.AddSingleton<IRealtimeBus, LocalRealtimeBus>();
            services.AddSingleton<HubLifetimeManager<RealtimeHub>>(sp => new TrackingHubLifetimeManager(
                ActivatorUtilities.CreateInstance<DefaultHubLifetimeManager<RealtimeHub>>(sp), sp.GetRequiredService<RealtimeConnections>()));
        }

        services.AddHostedService<ConnectionExpirySweeper>();
        services.Replace(ServiceDescriptor.Singleton<IConversationEventNotifier, HubConversationEventNotifier>());
        services.Replace(ServiceDescriptor.Singleton<IConnectionCutoff, RealtimeConnectionCutoff>());
        return services;
    }

    private static void Require(bool condition, string key, string expected)
    {
        if (!condition)
        {
            throw new StartupException($"{RealtimeOptions.Section}:{key}", $"must be {expected}.");
        }
    }

    /// <summary>
    /// Before authentication: refuses a browser page of a foreign origin (403), and moves a browser's
    /// <c>access_token</c> query parameter into the Authorization header (browsers cannot set headers on a
    /// WebSocket). Only on the hub's path: everywhere else a token in the URL is ignored.
    /// </summary>
    public static IApplicationBuilder UseRealtimeHandshake(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments(HubPath, StringComparison.OrdinalIgnoreCase))
            {
                await next(context);
                return;
            }

            if (!IsOriginAllowed(context))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }

            var query = context.Request.Query;
            if (query.TryGetValue("access_token", out var token) && !string.IsNullOrEmpty(token))
            {
                if (string.IsNullOrEmpty(context.Request.Headers.Authorization))
                {
                    context.Request.Headers.Authorization = $"Bearer {token}";
                }

                // Out of the URL, so nothing later (logs, telemetry) sees it.
                context.Request.QueryString = QueryString.Create(query
                    .Where(p => !string.Equals(p.Key, "access_token", StringComparison.Ordinal))
                    .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v))));
            }

            // Authentication and authorization resolve their services from the request's scope: the token look-up's
            // DbContext with its EF internals and SQLite function table, OpenIddict's stores, the handlers. A WebSocket's
            // request lasts as long as the connection, so all of that stayed alive for every open hub connection,
            // about a third of its memory (docs/performance.md, "Idle hub connections"). They get a scope of their own
            // instead, ended by EndRealtimeHandshake once the hub takes over; the hub's invocations have their own
            // scopes anyway.
            var requestServices = context.RequestServices;
            await using var handshake = requestServices.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
            context.RequestServices = handshake.ServiceProvider;
            context.Features.Set(new HandshakeServices(handshake, requestServices));
            try
            {
                await next(context);
            }
            finally
            {
                // Refused before the hub (401, 403, 429): the request's own services again before the scope ends, for
                // whatever still writes the response.
                if (context.Features.Get<HandshakeServices>() is not null)
                {
                    context.Features.Set<HandshakeServices?>(null);
                    context.RequestServices = requestServices;
                }
            }
        });

    /// <summary>
    /// Last before the endpoints: a hub request that got this far is authenticated and authorized, so the services its
    /// handshake used are released (see <see cref="UseRealtimeHandshake"/>) and the hub runs with the request's own.
    /// </summary>
    public static IApplicationBuilder EndRealtimeHandshake(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.Features.Get<HandshakeServices>() is { } handshake)
            {
                context.Features.Set<HandshakeServices?>(null);
                context.RequestServices = handshake.RequestServices;
                await handshake.Scope.DisposeAsync();
            }

            await next(context);
        });

    /// <summary>The scope the hub handshake's authentication ran in, and the request's own services to go back to.</summary>
    private sealed record HandshakeServices(AsyncServiceScope Scope, IServiceProvider RequestServices);

    public static IEndpointRouteBuilder MapRealtimeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<RealtimeHub>(HubPath);
        return endpoints;
    }

    private static bool IsOriginAllowed(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(origin))
        {
            return true; // not a browser page
        }

        var normalized = NormalizeOrigin(origin);
        if (normalized is null)
        {
            return false; // "null" (sandboxed or file: pages) and anything unparsable
        }

        if (string.Equals(normalized, NormalizeOrigin($"{context.Request.Scheme}://{context.Request.Host}"), StringComparison.Ordinal))
        {
            return true;
        }

        var allowed = context.RequestServices.GetRequiredService<IOptions<RealtimeOptions>>().Value.AllowedOrigins;
        return allowed.Any(a => string.Equals(NormalizeOrigin(a), normalized, StringComparison.Ordinal));
    }

    private static string? NormalizeOrigin(string origin) =>
        Uri.TryCreate(origin.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                                                              && uri.AbsolutePath == "/" && string.IsNullOrEmpty(uri.Query)
            ? $"{uri.Scheme}://{uri.Host.ToLowerInvariant()}:{uri.Port}"
            : null;
}

/// <summary>Pushes each committed event, read marker and new conversation to the connections of the members, on every node.</summary>
internal sealed class HubConversationEventNotifier(IRealtimeBus bus) : IConversationEventNotifier
{
    public Task AppendedAsync(ConversationEvent appended, MessageResponse? message, CancellationToken cancellationToken)
    {
        var payload = new EventAppendedEvent(appended.ConversationId, appended.Sequence, appended.Kind, appended.ActorId,
            appended.CreatedAt, appended.MessageId, message, appended.Emoji, appended.SubjectUserId, appended.Role);
        return appended.Kind switch
        {
            // The new member's connections receive this event and everything after it; their other devices learn of the conversation.
            ConversationEventKinds.MemberJoined when appended.SubjectUserId is { } joined => PublishAllAsync(
                new RealtimeEnvelope { Method = RealtimeEvents.EventAppended, Payload = payload, ConversationId = appended.ConversationId, JoinUserId = joined },
                new RealtimeEnvelope { Method = RealtimeEvents.ConversationAdded, Payload = new ConversationAddedEvent(appended.ConversationId), UserIds = [joined] }),
            // The member who left (or was removed) sees that event, and nothing after it.
            ConversationEventKinds.MemberLeft when appended.SubjectUserId is { } left => PublishAllAsync(
                new RealtimeEnvelope { Method = RealtimeEvents.EventAppended, Payload = payload, ConversationId = appended.ConversationId, LeaveUserId = left },
                new RealtimeEnvelope { Method = RealtimeEvents.ConversationRemoved, Payload = new ConversationRemovedEvent(appended.ConversationId), UserIds = [left] }),
            _ => bus.PublishAsync(new RealtimeEnvelope { Method = RealtimeEvents.EventAppended, Payload = payload, ConversationId = appended.ConversationId }),
        };
    }

    public Task ReadAsync(Guid conversationId, Guid userId, long sequence) => bus.PublishAsync(new RealtimeEnvelope
    {
        Method = RealtimeEvents.ReadReceipt, Payload = new ReadReceiptEvent(conversationId, userId, sequence), ConversationId = conversationId,
    });

    public async Task CreatedAsync(Guid conversationId, IReadOnlyList<Guid> memberIds)
    {
        foreach (var member in memberIds)
        {
            await bus.PublishAsync(new RealtimeEnvelope { ConversationId = conversationId, JoinUserId = member });
        }

        await bus.PublishAsync(new RealtimeEnvelope
        {
            Method = RealtimeEvents.ConversationAdded, Payload = new ConversationAddedEvent(conversationId), UserIds = memberIds,
        });
    }

    private async Task PublishAllAsync(params RealtimeEnvelope[] envelopes)
    {
        foreach (var envelope in envelopes)
        {
            await bus.PublishAsync(envelope);
        }
    }
}

/// <summary>Closes hub connections on every node when their session, token or account ends.</summary>
internal sealed class RealtimeConnectionCutoff(IRealtimeBus bus) : IConnectionCutoff
{
    public async Task SessionsEndedAsync(IReadOnlyCollection<Guid> sessionIds)
    {
        foreach (var sessionId in sessionIds)
        {
            await bus.PublishAsync(new RealtimeEnvelope { CloseSessionId = sessionId });
        }
    }

    public Task AccessTokenRevokedAsync(Guid tokenId) => bus.PublishAsync(new RealtimeEnvelope { CloseAccessTokenId = tokenId });

    public Task UserEndedAsync(Guid userId) => bus.PublishAsync(new RealtimeEnvelope { CloseUserId = userId });
}

/// <summary>Closes connections whose access token expired: a connection never outlives its credential by more than one sweep.</summary>
internal sealed class ConnectionExpirySweeper(RealtimeConnections connections, IOptions<RealtimeOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.ExpirySweepSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = time.GetUtcNow();
            foreach (var connection in connections.All)
            {
                if (connection.ExpiresAt is { } expires && expires <= now)
                {
                    connection.Close();
                }
            }
        }
    }
}
