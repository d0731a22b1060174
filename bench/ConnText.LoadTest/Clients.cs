using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.LoadTest;

/// <summary>One line of the seed's tokens file: the connection's credential, user and room.</summary>
internal sealed record Seat(int Index, string Token, Guid UserId, Guid RoomId)
{
    public static async Task<IReadOnlyList<Seat>> LoadAsync(string path, CancellationToken cancellationToken) =>
        [.. (await File.ReadAllLinesAsync(path, cancellationToken)).Where(l => l.Length > 0).Select((line, i) =>
        {
            var parts = line.Split('\t');
            return new Seat(i, parts[0], Guid.Parse(parts[1], CultureInfo.InvariantCulture), Guid.Parse(parts[2], CultureInfo.InvariantCulture));
        })];
}

/// <summary>Only the members of <c>EventAppended</c> the generator reads; the deserializer skips the rest.</summary>
internal sealed record AppendedLite(Guid ConversationId, long Sequence, MessageLite? Message);

internal sealed record MessageLite(string? Text);

internal sealed record SentLite(long Sequence);

/// <summary>A client connection of the system under test.</summary>
internal interface ILoadClient : IAsyncDisposable
{
    bool IsConnected { get; }

    Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Sends a message to the room; completes when the server acknowledged it.</summary>
    Task SendAsync(Guid roomId, string text, CancellationToken cancellationToken);
}

internal static class LoadClients
{
    /// <summary>
    /// A client for <c>--target</c>; for the SignalR targets <c>--hub-client</c> picks the .NET SignalR client
    /// ("signalr") or <see cref="RawHubClient"/> ("raw").
    /// </summary>
    public static ILoadClient Create(string target, string protocol, string hubClient, Uri baseUrl, Seat seat, Action<string?> onText, Action onClosed) => target switch
    {
        "conntext" => Hub(new Uri(baseUrl, "/hubs/realtime"), seat.Token, protocol, hubClient, onText, onClosed),
        // The bare SignalR baseline (bench/baselines/aspnet-relay): no token, the room in the query string.
        "signalr" => Hub(new Uri(baseUrl, $"/hubs/relay?room={seat.RoomId}&user={seat.UserId}"), null, protocol, hubClient, onText, onClosed),
        "ws" => new WsClient(baseUrl, seat, onText, onClosed),
        _ => throw new ArgumentException("--target is conntext, signalr or ws"),
    };

    private static ILoadClient Hub(Uri hubUrl, string? token, string protocol, string hubClient, Action<string?> onText, Action onClosed) => hubClient switch
    {
        "signalr" => new HubClient(hubUrl, token, protocol, onText, onClosed),
        "raw" when protocol == "json" => new RawHubClient(hubUrl, token, onText, onClosed),
        "raw" => throw new ArgumentException("--hub-client raw speaks only --protocol json"),
        _ => throw new ArgumentException("--hub-client is signalr or raw"),
    };
}

/// <summary>
/// A hub connection as an app opens it: WebSockets, token (when there is one) in the Authorization header. ConnText's
/// hub, or the bare SignalR baseline, which has the same <c>SendMessage</c> and <c>EventAppended</c>.
/// </summary>
internal sealed class HubClient : ILoadClient
{
    private readonly HubConnection connection;

    public HubClient(Uri hubUrl, string? token, string protocol, Action<string?> onText, Action onClosed)
    {
        var builder = new HubConnectionBuilder()
            .WithUrl(hubUrl, HttpTransportType.WebSockets, o =>
            {
                o.SkipNegotiation = true; // one TCP connection per client, no negotiate round trip
                if (token is not null)
                {
                    o.AccessTokenProvider = () => Task.FromResult<string?>(token);
                }
            })
            // The generator shares the cores with the server: a late ping from the server is load, not a failure.
            .WithServerTimeout(TimeSpan.FromMinutes(5));
        if (protocol == "messagepack")
        {
            builder.AddMessagePackProtocol();
        }

        connection = builder.Build();
        connection.On<AppendedLite>("EventAppended", e => onText(e.Message?.Text));
        connection.Closed += _ =>
        {
            onClosed();
            return Task.CompletedTask;
        };
    }

    public bool IsConnected => connection.State == HubConnectionState.Connected;

    public Task ConnectAsync(CancellationToken cancellationToken) => connection.StartAsync(cancellationToken);

    public Task SendAsync(Guid roomId, string text, CancellationToken cancellationToken) =>
        connection.InvokeCoreAsync("SendMessage", typeof(SentLite), [roomId, Guid.NewGuid(), text, null], cancellationToken);

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}

/// <summary>
/// A plain WebSocket to a baseline relay speaking relay.js's protocol: the Node.js <c>ws</c> one
/// (bench/baselines/ws-relay) or Kestrel's (bench/baselines/aspnet-relay).
/// </summary>
internal sealed class WsClient(Uri baseUrl, Seat seat, Action<string?> onText, Action onClosed) : ILoadClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ClientWebSocket socket = new();
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> pending = new();
    private readonly CancellationTokenSource stop = new();

    public bool IsConnected => socket.State == WebSocketState.Open;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var url = new UriBuilder(baseUrl) { Scheme = "ws", Path = "/", Query = $"room={seat.RoomId}&user={seat.UserId}" }.Uri;
        await socket.ConnectAsync(url, cancellationToken);
        _ = ReceiveLoopAsync();
    }

    public async Task SendAsync(Guid roomId, string text, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        var acked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = acked;
        var frame = JsonSerializer.SerializeToUtf8Bytes(new WsSend("send", roomId, id, text), Json);
        await PlainWebSockets.SendAsync(socket, sendLock, frame, cancellationToken);

        await acked.Task.WaitAsync(cancellationToken);
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var received = await PlainWebSockets.ReceiveAsync(socket, buffer, length, stop.Token);
                (buffer, length) = (received.Buffer, received.Length);
                if (received.Closed)
                {
                    break;
                }

                if (!received.EndOfMessage)
                {
                    continue;
                }

                var frame = JsonSerializer.Deserialize<WsFrame>(buffer.AsSpan(0, length), Json);
                length = 0;
                if (frame?.Type == "event")
                {
                    onText(frame.Event?.Message?.Text);
                }
                else if (frame?.Type == "ack" && frame.Id is { } id && pending.TryRemove(id, out var acked))
                {
                    acked.TrySetResult();
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested || socket.State != WebSocketState.Open)
        {
        }
        finally
        {
            PlainWebSockets.EndReceive(buffer, pending.Values, onClosed);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await PlainWebSockets.CloseAsync(socket, sendLock, stop);
    }

    private sealed record WsSend(string Type, Guid Room, Guid Id, string Text);

    private sealed record WsFrame(string Type, Guid? Id, AppendedLite? Event);
}

/// <summary>
/// SignalR's JSON hub protocol spoken over a plain <see cref="ClientWebSocket"/> (<c>--hub-client raw</c>), for a
/// generator that costs what the <see cref="WsClient"/> costs: the generator shares the cores with the server, and
/// the SignalR client's own pipes, handler dispatch and argument binding cost about as much CPU per received message
/// as the whole WebSocket client does. The server sees a normal SignalR client: the handshake, invocations with an
/// id, a ping every 15 s (the server's default client timeout is 30 s).
/// </summary>
internal sealed class RawHubClient(Uri hubUrl, string? token, Action<string?> onText, Action onClosed) : ILoadClient
{
    private const byte RecordSeparator = 0x1e;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly byte[] Handshake = [.. """{"protocol":"json","version":1}"""u8, RecordSeparator];
    private static readonly byte[] Ping = [.. """{"type":6}"""u8, RecordSeparator];
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(15);
    private readonly ClientWebSocket socket = new();
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stop = new();
    private long invocations;
    private Timer? pings;

    public bool IsConnected => socket.State == WebSocketState.Open;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }

        var url = new UriBuilder(hubUrl) { Scheme = hubUrl.Scheme == "https" ? "wss" : "ws" }.Uri;
        await socket.ConnectAsync(url, cancellationToken);
        await SendFrameAsync(Handshake, cancellationToken);

        // The handshake response ({} or {"error":…}) is the first record; anything after it is the first message.
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        int end;
        while ((end = buffer.AsSpan(0, length).IndexOf(RecordSeparator)) < 0)
        {
            var received = await PlainWebSockets.ReceiveAsync(socket, buffer, length, cancellationToken);
            (buffer, length) = (received.Buffer, received.Length);
            if (received.Closed)
            {
                throw new WebSocketException($"closed during the handshake: {socket.CloseStatus} {socket.CloseStatusDescription}");
            }
        }

        if (JsonSerializer.Deserialize<HandshakeResponse>(buffer.AsSpan(0, end), Json)?.Error is { } error)
        {
            throw new InvalidOperationException($"handshake refused: {error}");
        }

        buffer.AsSpan(end + 1, length - end - 1).CopyTo(buffer);
        _ = ReceiveLoopAsync(buffer, length - end - 1);
        var first = TimeSpan.FromMilliseconds(Random.Shared.Next((int)PingInterval.TotalMilliseconds));
        pings = new Timer(_ => _ = PingAsync(), null, first, PingInterval);
    }

    public async Task SendAsync(Guid roomId, string text, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref invocations).ToString(CultureInfo.InvariantCulture);
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = completed;
        var invocation = JsonSerializer.SerializeToUtf8Bytes(
            new Invocation(1, id, "SendMessage", [roomId, Guid.NewGuid(), text, null]), Json);
        await SendFrameAsync([.. invocation, RecordSeparator], cancellationToken);
        await completed.Task.WaitAsync(cancellationToken);
    }

    private Task SendFrameAsync(byte[] frame, CancellationToken cancellationToken) =>
        PlainWebSockets.SendAsync(socket, sendLock, frame, cancellationToken);

    private async Task PingAsync()
    {
        try
        {
            await SendFrameAsync(Ping, stop.Token);
        }
        catch (Exception)
        {
            // closed or closing: the receive loop reports it
        }
    }

    private async Task ReceiveLoopAsync(byte[] buffer, int length)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                // Records end with 0x1e; a WebSocket message may hold several, or part of one.
                var start = 0;
                int end;
                while ((end = buffer.AsSpan(start, length - start).IndexOf(RecordSeparator)) >= 0)
                {
                    if (!Handle(buffer.AsSpan(start, end)))
                    {
                        return;
                    }

                    start += end + 1;
                }

                buffer.AsSpan(start, length - start).CopyTo(buffer);
                length -= start;
                var received = await PlainWebSockets.ReceiveAsync(socket, buffer, length, stop.Token);
                (buffer, length) = (received.Buffer, received.Length);
                if (received.Closed)
                {
                    return;
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested || socket.State != WebSocketState.Open)
        {
        }
        finally
        {
            PlainWebSockets.EndReceive(buffer, pending.Values, onClosed);
        }
    }

    /// <summary>One record; false when the server closed the connection (type 7).</summary>
    private bool Handle(ReadOnlySpan<byte> record)
    {
        // The server's JSON protocol writes "type" then "target": only EventAppended needs its argument bound.
        if (record.IndexOf("\"target\":\"EventAppended\""u8) >= 0)
        {
            var appended = JsonSerializer.Deserialize<EventFrame>(record, Json);
            onText(appended?.Arguments is [{ } e, ..] ? e.Message?.Text : null);
            return true;
        }

        var frame = JsonSerializer.Deserialize<ControlFrame>(record, Json);
        switch (frame?.Type)
        {
            case 3 when frame.InvocationId is { } id && pending.TryRemove(id, out var completed):
                if (frame.Error is { } error)
                {
                    completed.TrySetException(new InvalidOperationException(error));
                }
                else
                {
                    completed.TrySetResult();
                }

                return true;
            case 7:
                return false;
            default:
                return true; // pings, other events
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (pings is not null)
        {
            await pings.DisposeAsync();
        }

        await PlainWebSockets.CloseAsync(socket, sendLock, stop);
    }

    private sealed record HandshakeResponse(string? Error);

    private sealed record Invocation(int Type, string InvocationId, string Target, object?[] Arguments);

    private sealed record EventFrame(AppendedLite?[]? Arguments);

    private sealed record ControlFrame(int Type, string? InvocationId, string? Error);
}

/// <summary>What both plain-WebSocket clients do alike: one send at a time, a growing receive buffer, closing.</summary>
internal static class PlainWebSockets
{
    public static async Task SendAsync(ClientWebSocket socket, SemaphoreSlim sendLock, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await sendLock.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            sendLock.Release();
        }
    }

    /// <summary>
    /// Receives after the first <paramref name="length"/> bytes of the pooled <paramref name="buffer"/>, first trading it
    /// for one twice the size when it is full.
    /// </summary>
    public static async Task<Received> ReceiveAsync(ClientWebSocket socket, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        if (length == buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
            buffer.AsSpan(0, length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = larger;
        }

        var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
        return result.MessageType == WebSocketMessageType.Close
            ? new Received(buffer, length, Closed: true, EndOfMessage: true)
            : new Received(buffer, length + result.Count, Closed: false, result.EndOfMessage);
    }

    /// <summary>The receive loop ended: its buffer goes back, waiting sends fail, the run counts the closed connection.</summary>
    public static void EndReceive(byte[] buffer, IEnumerable<TaskCompletionSource> pending, Action onClosed)
    {
        ArrayPool<byte>.Shared.Return(buffer);
        foreach (var waiting in pending)
        {
            waiting.TrySetException(new WebSocketException("connection closed"));
        }

        onClosed();
    }

    /// <summary>Stops the receive loop, closes (best effort, 2 s) and disposes.</summary>
    public static async Task CloseAsync(ClientWebSocket socket, SemaphoreSlim sendLock, CancellationTokenSource stop)
    {
        await stop.CancelAsync();
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception)
        {
            // closing is best effort
        }

        socket.Dispose();
        sendLock.Dispose();
        stop.Dispose();
    }
}

internal readonly record struct Received(byte[] Buffer, int Length, bool Closed, bool EndOfMessage);
