using ConnText.Contracts.Conversations;
using ConnText.Contracts.Realtime;
using ConnText.Server.Hosting;
using ConnText.Server.Messages;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

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

        services.Configure<RealtimeOptions>(configuration.GetSection(RealtimeOptions.Section));
        services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = MaxReceiveMessageBytes(messaging.MaxMessageChars);
            o.EnableDetailedErrors = false;
        }).AddMessagePackProtocol();
        services.AddSingleton<RealtimeConnections>();
        services.Replace(ServiceDescriptor.Singleton<IConversationEventNotifier, HubConversationEventNotifier>());
        return services;
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

            await next(context);
        });

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

/// <summary>Pushes each committed event to the connections of the conversation's members.</summary>
internal sealed class HubConversationEventNotifier(
    IHubContext<RealtimeHub> hub, RealtimeConnections connections, ILogger<HubConversationEventNotifier> logger)
    : IConversationEventNotifier
{
    public async Task AppendedAsync(ConversationEvent appended, MessageResponse? message, CancellationToken cancellationToken)
    {
        var payload = new EventAppendedEvent(appended.ConversationId, appended.Sequence, appended.Kind, appended.ActorId,
            appended.CreatedAt, appended.MessageId, message, appended.Emoji, appended.SubjectUserId);
        try
        {
            // Not the request's token: the event is stored, and a client that went away must not stop the others' push.
            var group = RealtimeHub.ConversationGroup(appended.ConversationId);
            var subject = appended.SubjectUserId is { } s ? connections.Of(s) : [];
            if (appended.Kind == ConversationEventKinds.MemberJoined)
            {
                // The new member's open connections receive this event and everything after it.
                foreach (var connectionId in subject)
                {
                    await hub.Groups.AddToGroupAsync(connectionId, group, CancellationToken.None);
                }
            }

            await hub.Clients.Group(group).SendAsync(RealtimeHub.EventAppended, payload, CancellationToken.None);
            if (appended.Kind == ConversationEventKinds.MemberLeft)
            {
                // The member who left (or was removed) sees that event, and nothing after it.
                foreach (var connectionId in subject)
                {
                    await hub.Groups.RemoveFromGroupAsync(connectionId, group, CancellationToken.None);
                }
            }
        }
#pragma warning disable CA1031 // a push failure of any kind must not fail the committed change
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Clients converge through Sync anyway; a failed push is logged, never the request's failure.
            logger.LogWarning(ex, "Could not push event {Sequence} of conversation {ConversationId}", appended.Sequence, appended.ConversationId);
        }
    }
}
