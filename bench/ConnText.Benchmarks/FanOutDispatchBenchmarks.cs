using System.IO.Pipelines;
using System.Security.Claims;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using ConnText.Contracts.Conversations;
using ConnText.Server.Messages;
using ConnText.Server.Realtime;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Benchmarks;

/// <summary>
/// The server's fan-out of one committed message to a room (ADR 0011), through the real types: one
/// <c>EventAppended</c> handed to <see cref="HubConversationEventNotifier"/> (what <c>SendMessage</c> calls after
/// storing) → <see cref="LocalRealtimeBus"/> → <see cref="RealtimeConnections.Dispatch"/> → each follower's
/// <see cref="RealtimeConnection"/> queue → its writer task → SignalR's own <see cref="HubConnectionContext.WriteAsync(SerializedHubMessage, CancellationToken)"/>
/// (the message serialized once per protocol) → the connection's transport <see cref="PipeWriter"/>.
/// The connections are registered as the server does it (<see cref="TrackingHubLifetimeManager"/> around
/// SignalR's <see cref="DefaultHubLifetimeManager{THub}"/>, then <see cref="RealtimeConnections.JoinLoaded"/>).
/// Not included: the transport behind the pipe (Kestrel's WebSocket framing and the socket send): each
/// connection's output is a writer that takes the bytes, counts the delivery and drops them.
/// One operation = one message to every connection of the room; it ends when the last connection's write returned.
/// </summary>
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 3, iterationCount: 10)]
[MemoryDiagnoser]
[Config(typeof(PerDeliveryColumns))]
public class FanOutDispatchBenchmarks
{
    private readonly Deliveries deliveries = new();
    private readonly List<HubConnectionContext> contexts = [];
    private readonly List<DefaultConnectionContext> connectionContexts = [];
    private RealtimeConnections connections = null!;
    private HubConversationEventNotifier notifier = null!;
    private ConversationEvent appended = null!;
    private MessageResponse message = null!;
    private long sequence;

    /// <summary>Connections in the room (each of a distinct user, as in the hub fan-out runs).</summary>
    [Params(1, 100, 1000)]
    public int Connections { get; set; }

    /// <summary>The hub protocol every connection of the room negotiated.</summary>
    [Params("json", "messagepack")]
    public string Protocol { get; set; } = "json";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        // The server's defaults (SendQueueLimit 1000).
        connections = new RealtimeConnections(Options.Create(new RealtimeOptions()), NullLogger<RealtimeConnection>.Instance);
        notifier = new HubConversationEventNotifier(new LocalRealtimeBus(connections));
        var lifetime = new TrackingHubLifetimeManager(
            new DefaultHubLifetimeManager<RealtimeHub>(NullLogger<DefaultHubLifetimeManager<RealtimeHub>>.Instance), connections);
        IHubProtocol protocol = Protocol == "json" ? new JsonHubProtocol() : new MessagePackHubProtocol();

        var room = Guid.CreateVersion7();
        for (var i = 0; i < Connections; i++)
        {
            var transport = new BenchTransport(deliveries);
            var connectionContext = new DefaultConnectionContext(Guid.NewGuid().ToString("N"), transport, transport);
            connectionContexts.Add(connectionContext);
            connectionContext.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(Claims.Subject, Guid.CreateVersion7().ToString())], "Bench"));
            var context = new HubConnectionContext(connectionContext, new HubConnectionContextOptions
            {
                KeepAliveInterval = TimeSpan.FromSeconds(15),
                ClientTimeoutInterval = TimeSpan.FromSeconds(30),
                StreamBufferCapacity = 10,
            }, NullLoggerFactory.Instance)
            {
                Protocol = protocol, // what the handshake would have set
            };
            contexts.Add(context);
            await lifetime.OnConnectedAsync(context);
            connections.JoinLoaded(connections.Find(context.ConnectionId)!, [room]);
        }

        var sender = Guid.CreateVersion7();
        var at = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        var messageId = Guid.CreateVersion7();
        appended = new ConversationEvent
        {
            ConversationId = room, Sequence = 42, Kind = ConversationEventKinds.MessageCreated, ActorId = sender, MessageId = messageId, CreatedAt = at,
        };
        // The same 100-character message as HubSerializationBenchmarks.
        message = new MessageResponse(messageId, room, 42, MessageKinds.Text, sender, Guid.NewGuid(), new string('x', 100), null, null, null,
            at, null, null, [], [], []);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var context in contexts)
        {
            connections.Unregister(context.ConnectionId);
            context.Abort();
        }

        foreach (var connectionContext in connectionContexts)
        {
            await connectionContext.DisposeAsync();
        }
    }

    [Benchmark]
    public async Task Dispatch()
    {
        deliveries.Expect(Connections);
        appended.Sequence = ++sequence;
        await notifier.AppendedAsync(appended, message, CancellationToken.None);
        deliveries.WaitForAll();
    }

    /// <summary>Counts the writes that reached the connections' transports; the benchmark thread waits (blocked, not spinning) for the last.</summary>
    private sealed class Deliveries
    {
        private readonly object gate = new();
        private int remaining;

        public void Expect(int count) => Volatile.Write(ref remaining, count);

        public void Delivered()
        {
            if (Interlocked.Decrement(ref remaining) == 0)
            {
                lock (gate)
                {
                    Monitor.PulseAll(gate);
                }
            }
        }

        public void WaitForAll()
        {
            lock (gate)
            {
                while (Volatile.Read(ref remaining) > 0)
                {
                    if (!Monitor.Wait(gate, TimeSpan.FromSeconds(30)))
                    {
                        throw new TimeoutException($"{Volatile.Read(ref remaining)} deliveries did not arrive within 30 s.");
                    }
                }
            }
        }
    }

    /// <summary>
    /// A connection's transport as SignalR sees it: an input nobody writes to, and an output that accepts every
    /// write at once (no back-pressure, as a client that keeps up), counts it as one delivery, and drops the bytes.
    /// </summary>
    private sealed class BenchTransport(Deliveries deliveries) : IDuplexPipe
    {
        private readonly Pipe input = new();

        public PipeReader Input => input.Reader;

        public PipeWriter Output { get; } = new DroppingWriter(deliveries);
    }

    private sealed class DroppingWriter(Deliveries deliveries) : PipeWriter
    {
        private readonly byte[] scratch = new byte[16 * 1024];

        public override void Advance(int bytes)
        {
        }

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            deliveries.Delivered();
            return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
        }

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            // Copied, as a Pipe would copy into its segments.
            source.Span.CopyTo(scratch);
            return FlushAsync(cancellationToken);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => scratch;

        public override Span<byte> GetSpan(int sizeHint = 0) => scratch;
    }
}
