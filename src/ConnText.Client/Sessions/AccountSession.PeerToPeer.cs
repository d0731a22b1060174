using ConnText.Client.Store;
using ConnText.Contracts.Conversations;

namespace ConnText.Client.Sessions;

/// <summary>
/// Peer-to-peer conversations (<see cref="ConversationKinds.PeerToPeer"/>): their messages never go to the server.
/// Written messages wait in the same outbox as others (so they survive a restart and show as pending), but the hub
/// never gets them: the window's data channels deliver them (UI <c>PeerTransfers</c>, wwwroot/peers.js) and report
/// the other device's acknowledgement here, which stores the message locally. Received ones are stored with a local
/// sequence number, after the last stored message of the conversation.
/// </summary>
public sealed partial class AccountSession
{
    /// <summary>Longest text accepted from a peer (the server's default message limit).</summary>
    public const int MaxPeerMessageChars = 16_384;

    /// <summary>Raised when a message of a peer-to-peer conversation waits to be delivered.</summary>
    public event EventHandler? PeerMessagesWaiting;

    /// <summary>Whether the conversation's messages go device to device.</summary>
    public bool IsPeerToPeer(Guid conversationId) => Store.Conversation(conversationId)?.Conversation.Kind == ConversationKinds.PeerToPeer;

    /// <summary>The messages of peer-to-peer conversations still to deliver, with who they are for, oldest first.</summary>
    public IReadOnlyList<PendingPeerMessage> PendingPeerMessages()
    {
        var conversations = Store.Conversations().Where(c => c.Conversation.Kind == ConversationKinds.PeerToPeer)
            .ToDictionary(c => c.Conversation.Id, c => c.Conversation);
        return [.. Store.Outbox()
            .Where(e => conversations.ContainsKey(e.ConversationId))
            .Select(e => (Entry: e, Other: conversations[e.ConversationId].Members.FirstOrDefault(m => m.UserId != Account.UserId)))
            .Where(x => x.Other is not null)
            .Select(x => new PendingPeerMessage(x.Other!.UserId, x.Entry))];
    }

    /// <summary>The other device acknowledged a message: it is stored here as sent and leaves the outbox.</summary>
    public void PeerMessageDelivered(Guid clientMessageId)
    {
        var entry = Store.Outbox().FirstOrDefault(e => e.ClientMessageId == clientMessageId);
        if (entry is null || !IsPeerToPeer(entry.ConversationId))
        {
            return;
        }

        StoreLocally(entry.ConversationId, clientMessageId, Account.UserId, entry.Text, entry.ReplyToMessageId, entry.CreatedAt);
        Store.Dequeue(clientMessageId);
        OnChanged();
    }

    /// <summary>
    /// A message from another device of a peer-to-peer conversation; false (not acknowledged) when this device does not
    /// know the conversation or the sender is not in it. Receiving the same message twice stores it once.
    /// </summary>
    public bool ReceivePeerMessage(Guid conversationId, Guid fromUserId, Guid messageId, string? text, DateTimeOffset sentAt)
    {
        var stored = Store.Conversation(conversationId);
        if (stored is not { Conversation.Kind: ConversationKinds.PeerToPeer } || fromUserId == Account.UserId
            || stored.Conversation.Members.All(m => m.UserId != fromUserId)
            || string.IsNullOrWhiteSpace(text) || text.Length > MaxPeerMessageChars || messageId == Guid.Empty)
        {
            return false;
        }

        if (Store.Message(messageId) is not null)
        {
            return true; // a retry whose acknowledgement was lost
        }

        // The sender's clock says when it was written; a clock far in the future would pin it to the top.
        var now = time.GetUtcNow();
        var message = StoreLocally(conversationId, messageId, fromUserId, text, null, sentAt > now ? now : sentAt);
        OnChanged();
        MessageReceived?.Invoke(this, new MessageEventArgs(this, message));
        return true;
    }

    /// <summary>Asks the window to deliver what waits (after a write, or when the other side came online).</summary>
    public void AnnouncePeerMessages()
    {
        if (PendingPeerMessages().Count > 0)
        {
            PeerMessagesWaiting?.Invoke(this, EventArgs.Empty);
        }
    }

    private MessageResponse StoreLocally(Guid conversationId, Guid id, Guid senderId, string text, Guid? replyTo, DateTimeOffset at)
    {
        var sequence = Store.LastSequence(conversationId) + 1;
        var message = new MessageResponse(id, conversationId, sequence, MessageKinds.Text, senderId, id, text, replyTo, null, null, at, null, null, [], [], []);
        Store.UpsertMessage(message);
        Store.Applied(conversationId, sequence, at);
        if (senderId == Account.UserId)
        {
            Store.SetLastRead(conversationId, sequence); // one's own message is read
        }

        return message;
    }
}

/// <summary>A message of a peer-to-peer conversation waiting for the other device.</summary>
/// <param name="ToUserId">The other member.</param>
/// <param name="Entry">The outbox entry (conversation, id, text, time).</param>
public sealed record PendingPeerMessage(Guid ToUserId, OutboxEntry Entry);
