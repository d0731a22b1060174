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
    public static ILoadClient Create(string target, string protocol, Uri baseUrl, Seat seat, Action<string?> onText, Action onClosed) => target switch
    {
        "conntext" => new HubClient(new Uri(baseUrl, "/hubs/realtime"), seat.Token, protocol, onText, onClosed),
        // The bare SignalR baseline (bench/baselines/aspnet-relay): no token, the room in the query string.
        "signalr" => new HubClient(new Uri(baseUrl, $"/hubs/relay?room={seat.RoomId}&user={seat.UserId}"), null, protocol, onText, onClosed),
        "ws" => new WsClient(baseUrl, seat, onText, onClosed),
        _ => throw new ArgumentException("--target is conntext, signalr or ws"),
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
        await sendLock.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            sendLock.Release();
        }

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
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(length), stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                length += result.Count;
                if (!result.EndOfMessage)
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
            ArrayPool<byte>.Shared.Return(buffer);
            foreach (var waiting in pending.Values)
            {
                waiting.TrySetException(new WebSocketException("connection closed"));
            }

            onClosed();
        }
    }

    public async ValueTask DisposeAsync()
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

    private sealed record WsSend(string Type, Guid Room, Guid Id, string Text);

    private sealed record WsFrame(string Type, Guid? Id, AppendedLite? Event);
}
