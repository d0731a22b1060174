using ConnText.Contracts.Conversations;
using ConnText.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Messages;

/// <summary>
/// The common send, a member's text without files, reply or mention, stored by plain SQL instead of EF Core's change
/// tracking: on PostgreSQL in one round trip (<see cref="PostgresSend"/>, ADR 0025), on SQLite by two plain
/// commands inside the write transaction (<see cref="SqliteSend"/>, ADR 0026). Every other send takes the EF Core
/// transaction in <see cref="MessagesEndpoints.SendAsync"/>; all of them store the same rows and give the same answers.
/// </summary>
internal static class PlainSend
{
    internal enum Outcome
    {
        Stored,
        NotFound,
        PeerToPeer,
        AlreadySent,
    }

    /// <summary>Whether this send can take the plain path (the rest need look-ups EF Core does).</summary>
    public static bool Applies(int attachmentCount, Guid? replyToMessageId, string? text) =>
        attachmentCount == 0 && replyToMessageId is null && text is not null && !Mentions.MayMention(text);

    /// <summary>Stores a member's new text message, or says why not; <c>message</c> is set only when stored.</summary>
    public static Task<(Outcome Outcome, Message? Message)> StoreAsync(
        ConnTextDbContext db, Guid conversationId, Guid sender, Guid clientMessageId, string text, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        db.Database.IsNpgsql()
            ? PostgresSend.StoreAsync(db, conversationId, sender, clientMessageId, text, now, cancellationToken)
            : SqliteSend.StoreAsync(db, conversationId, sender, clientMessageId, text, now, cancellationToken);

    /// <summary>The message both paths store, before it has its sequence number.</summary>
    public static Message NewText(Guid conversationId, Guid sender, Guid clientMessageId, string text, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        ConversationId = conversationId,
        Kind = MessageKinds.Text,
        SenderId = sender,
        ClientMessageId = clientMessageId,
        Text = text,
        CreatedAt = now,
    };
}
