using System.Threading.Channels;
using ConnText.Server.Auth;
using Microsoft.AspNetCore.SignalR;
using OpenIddict.Abstractions;

namespace ConnText.Server.Realtime;

/// <summary>
/// One hub connection on this node: who it is, which conversations it follows, and its own bounded queue of
/// server events with one writer task. A slow client only ever fills its own queue; when that is full the
/// connection is closed and the client resumes by sequence, so it cannot stall the others or grow memory.
/// </summary>
internal sealed partial class RealtimeConnection
{
    private readonly HubConnectionContext context;
    private readonly Channel<SerializedHubMessage> queue;
    private readonly ILogger logger;
    private readonly Lock sync = new();
    private readonly HashSet<Guid> conversations = [];
    private readonly HashSet<Guid> leftBeforeLoaded = [];
    private readonly Dictionary<Guid, DateTimeOffset> lastTyping = [];
    private bool loaded;
    private int overflowed;
    private int closing; // set before the queue is completed: a refused write then means "going away", not "full"

    public RealtimeConnection(HubConnectionContext context, int queueLimit, ILogger logger)
    {
        this.context = context;
        this.logger = logger;
        var user = context.User;
        UserId = user.UserId();
        SessionId = user.SessionId();
        AccessTokenId = Guid.TryParse(user.GetClaim(AccessTokens.PersonalAccessTokenHandler.TokenIdClaim), out var pat) ? pat : null;
        ExpiresAt = user.GetExpirationDate();
        queue = Channel.CreateBounded<SerializedHubMessage>(new BoundedChannelOptions(queueLimit)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails instead of dropping: the overflow is handled below
            // An idle connection's writer runs inline in Enqueue: the dispatching thread writes the event into the
            // connection's pipe itself instead of queuing one thread-pool work item per delivery. The write never
            // blocks (it awaits asynchronously when the pipe is full or another write holds SignalR's lock), so a
            // slow client still only delays its own queue.
            AllowSynchronousContinuations = true,
        });
        // The queue ends when the connection does (Unregister completes it too). One registration per connection: a
        // token passed to the reader's every wait would cost a registration and a waiter per delivery.
        context.ConnectionAborted.UnsafeRegister(static state => ((RealtimeConnection)state!).Completed(), this);
        _ = PumpAsync();
    }

    public string ConnectionId => context.ConnectionId;

    public Guid UserId { get; }

    public Guid? SessionId { get; }

    public Guid? AccessTokenId { get; }

    /// <summary>When the credential the connection was made with expires; null when it does not say.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    public int Queued => queue.Reader.Count;

    public bool Follows(Guid conversationId)
    {
        lock (sync)
        {
            return conversations.Contains(conversationId);
        }
    }

    public IReadOnlyList<Guid> Followed()
    {
        lock (sync)
        {
            return [.. conversations];
        }
    }

    public void Join(Guid conversationId)
    {
        lock (sync)
        {
            leftBeforeLoaded.Remove(conversationId);
            conversations.Add(conversationId);
        }
    }

    public void Leave(Guid conversationId)
    {
        lock (sync)
        {
            conversations.Remove(conversationId);
            if (!loaded)
            {
                leftBeforeLoaded.Add(conversationId);
            }
        }
    }

    /// <summary>
    /// The memberships read from the database when the connection started. A leave that was applied while they
    /// were being read wins over the (older) read, so a removed member never follows the conversation again.
    /// </summary>
    public void JoinLoaded(IEnumerable<Guid> conversationIds)
    {
        lock (sync)
        {
            foreach (var id in conversationIds)
            {
                if (!leftBeforeLoaded.Contains(id))
                {
                    conversations.Add(id);
                }
            }

            loaded = true;
            leftBeforeLoaded.Clear();
        }
    }

    /// <summary>True when this connection's last typing event for the conversation is older than <paramref name="throttle"/>.</summary>
    public bool TryTyping(Guid conversationId, DateTimeOffset now, TimeSpan throttle)
    {
        lock (sync)
        {
            if (lastTyping.TryGetValue(conversationId, out var last) && now - last < throttle)
            {
                return false;
            }

            lastTyping[conversationId] = now;
            return true;
        }
    }

    public void Enqueue(SerializedHubMessage message)
    {
        if (queue.Writer.TryWrite(message))
        {
            return;
        }

        if (Volatile.Read(ref closing) != 0)
        {
            // The connection is going away (aborted, closed or unregistered) while an event was on its way to it,
            // as when many clients disconnect at once and each one's presence change goes to the others: nothing
            // overflowed, and its client resumes by sequence after reconnecting.
            return;
        }

        if (Interlocked.Exchange(ref overflowed, 1) == 0)
        {
            LogOverflow(logger, ConnectionId, queue.Reader.Count);
            Close();
        }
    }

    public void Close()
    {
        Completed();
        context.Abort();
    }

    public void Completed()
    {
        Volatile.Write(ref closing, 1);
        queue.Writer.TryComplete();
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var message in queue.Reader.ReadAllAsync())
            {
                await context.WriteAsync(message, context.ConnectionAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The connection closed: whatever is still queued the client gets by Sync after reconnecting.
        }
#pragma warning disable CA1031 // a failed write ends this connection's pump, never the process
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogWriteFailed(logger, ex, ConnectionId);
            context.Abort();
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} fell {Queued} events behind and is closed; the client resumes by sequence")]
    private static partial void LogOverflow(ILogger logger, string connectionId, int queued);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Writing to hub connection {ConnectionId} failed")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string connectionId);
}
