using System.IO.Pipelines;
using System.Security.Claims;
using ConnText.Server.Realtime;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using OpenIddict.Abstractions;

namespace ConnText.Server.Tests.Realtime;

/// <summary>
/// One connection's bounded event queue, on SignalR's own connection context over an in-memory transport: an event
/// for a connection that is going away is dropped quietly, a full queue closes the connection once.
/// </summary>
public sealed class RealtimeConnectionTests : IDisposable
{
    private const string Overflow = "fell";

    private readonly LogCapture logs = new();
    private readonly Pipe toClient = new(new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
    private readonly Pipe fromClient = new();
    private readonly HubConnectionContext hub;

    public RealtimeConnectionTests()
    {
        var transport = new DefaultConnectionContext(
            "connection-1", new Transport(fromClient.Reader, toClient.Writer), new Transport(toClient.Reader, fromClient.Writer))
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(OpenIddictConstants.Claims.Subject, Guid.NewGuid().ToString())], "test")),
        };
        hub = new HubConnectionContext(transport, new HubConnectionContextOptions
        {
            KeepAliveInterval = TimeSpan.FromMinutes(1),
            ClientTimeoutInterval = TimeSpan.FromMinutes(2),
            StreamBufferCapacity = 10,
        }, NullLoggerFactory.Instance)
        {
            Protocol = new JsonHubProtocol(),
        };
    }

    [Fact]
    public async Task Events_ForAConnectionGoingAway_AreDroppedWithoutAnOverflow()
    {
        var connection = new RealtimeConnection(hub, queueLimit: 4, logs.CreateLogger("RealtimeConnection"));
        hub.Abort();
        await WaitAsync(() => hub.ConnectionAborted.IsCancellationRequested);

        // Many clients disconnecting at once: each one's presence change still goes to the others for a moment.
        for (var i = 0; i < 10; i++)
        {
            connection.Enqueue(Event(i));
        }

        Assert.DoesNotContain(logs.Lines, line => line.Contains(Overflow, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Events_ForAConnectionThatIsNotReading_FillItsQueue_ThenCloseItOnce()
    {
        var connection = new RealtimeConnection(hub, queueLimit: 4, logs.CreateLogger("RealtimeConnection"));

        // The client reads nothing: the first event fills the transport, four more fill the queue, the sixth overflows.
        for (var i = 0; i < 12; i++)
        {
            connection.Enqueue(Event(i));
            await Task.Yield();
        }

        await WaitAsync(() => hub.ConnectionAborted.IsCancellationRequested);
        Assert.Single(logs.Lines, line => line.Contains(Overflow, StringComparison.Ordinal));
    }

    public void Dispose() => logs.Dispose();

    private static SerializedHubMessage Event(int sequence) =>
        new(new InvocationMessage("EventAppended", [new { sequence, text = new string('x', 100) }]));

    private static async Task WaitAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "timed out");
    }

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
