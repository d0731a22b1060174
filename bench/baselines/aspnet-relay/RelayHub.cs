using Microsoft.AspNetCore.SignalR;

namespace ConnText.AspNetRelay;

/// <summary>
/// A bare SignalR hub doing the relay's fan-out: <c>SendMessage</c> with ConnText's signature, one
/// <c>EventAppended</c> to the room's SignalR group (serialized once per protocol by SignalR), and the sequence back
/// as the invocation's result.
/// </summary>
internal sealed class RelayHub(Rooms rooms) : Hub
{
    public override async Task OnConnectedAsync()
    {
        var query = Context.GetHttpContext()?.Request.Query;
        string? room = query?["room"];
        string? user = query?["user"];
        if (string.IsNullOrEmpty(room) || string.IsNullOrEmpty(user))
        {
            Context.Abort();
            return;
        }

        Context.Items["room"] = room;
        Context.Items["user"] = user;
        await Groups.AddToGroupAsync(Context.ConnectionId, room);
    }

    public async Task<RelaySent> SendMessage(Guid conversationId, Guid clientMessageId, string? text, Guid? replyToMessageId)
    {
        var roomId = (string)Context.Items["room"]!;
        if (text is null || !Guid.TryParse(roomId, out var room) || room != conversationId || replyToMessageId is not null)
        {
            throw new HubException("bad message: only text to the connection's own room");
        }

        var sequence = rooms.Get(roomId).NextSequence();
        await Clients.Group(roomId).SendAsync("EventAppended", RelayEvent.Create(roomId, sequence, (string)Context.Items["user"]!, clientMessageId, text));
        return new RelaySent(sequence);
    }
}

internal sealed record RelaySent(long Sequence);
