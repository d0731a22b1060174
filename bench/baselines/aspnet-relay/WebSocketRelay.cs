using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

namespace ConnText.AspNetRelay;

/// <summary>
/// relay.js on Kestrel's WebSockets: the event is serialized once and the same bytes go to every member of the room
/// (the sender too), then the sender gets an acknowledgement. Like <c>ws</c>, a send to a member never waits for the
/// member: each member has its own send lock, and the sends queue behind it.
/// </summary>
internal static class WebSocketRelay
{
    private const int MaxMessageBytes = 100 * 1024;

    public static async Task AcceptAsync(HttpContext context, Rooms rooms)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        string? roomId = context.Request.Query["room"];
        string? userId = context.Request.Query["user"];
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        if (string.IsNullOrEmpty(roomId) || string.IsNullOrEmpty(userId))
        {
            await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "room and user required", context.RequestAborted);
            return;
        }

        var room = rooms.Get(roomId);
        var member = new WebSocketMember(socket);
        room.Join(member);
        try
        {
            await ReceiveAsync(socket, room, member, userId, context.RequestAborted);
        }
        finally
        {
            room.Leave(member);
            member.Dispose();
        }
    }

    private static async Task ReceiveAsync(WebSocket socket, Room room, WebSocketMember member, string userId, CancellationToken aborted)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(length), aborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                length += result.Count;
                if (length > MaxMessageBytes)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", aborted);
                    return;
                }

                if (!result.EndOfMessage)
                {
                    continue;
                }

                RelaySend? send;
                try
                {
                    send = JsonSerializer.Deserialize(buffer.AsSpan(0, length), RelayJson.Default.RelaySend);
                }
                catch (JsonException)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.InvalidPayloadData, "bad json", aborted);
                    return;
                }

                length = 0;
                if (send is not { Type: "send", Text: { } text } || send.Room != room.Id)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "bad message", aborted);
                    return;
                }

                var sequence = room.NextSequence();
                var frame = JsonSerializer.SerializeToUtf8Bytes(
                    new RelayFrame("event", RelayEvent.Create(room.Id, sequence, userId, send.Id, text)), RelayJson.Default.RelayFrame);
                foreach (var other in room.Members)
                {
                    other.Send(frame);
                }

                member.Send(JsonSerializer.SerializeToUtf8Bytes(new RelayAck("ack", send.Id, sequence), RelayJson.Default.RelayAck));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // the client went away
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>One socket of a room; a WebSocket allows one send at a time.</summary>
internal sealed class WebSocketMember(WebSocket socket) : IDisposable
{
    private readonly SemaphoreSlim sendLock = new(1, 1);

    /// <summary>Queues the frame behind this member's earlier ones; never waits for the member.</summary>
    public void Send(ReadOnlyMemory<byte> frame)
    {
        if (sendLock.Wait(0))
        {
            var sending = socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            if (sending.IsCompletedSuccessfully)
            {
                sending.GetAwaiter().GetResult();
                sendLock.Release();
                return;
            }

            _ = FinishAsync(sending);
            return;
        }

        _ = SendQueuedAsync(frame);
    }

    private async Task FinishAsync(ValueTask sending)
    {
        try
        {
            await sending;
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // the member went away; its own receive loop ends it
        }
        finally
        {
            sendLock.Release();
        }
    }

    private async Task SendQueuedAsync(ReadOnlyMemory<byte> frame)
    {
        await sendLock.WaitAsync();
        await FinishAsync(socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None));
    }

    public void Dispose() => sendLock.Dispose();
}
