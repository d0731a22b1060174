using ConnText.Contracts.Conversations;
using ConnText.Contracts.Files;
using ConnText.Server.Data;
using ConnText.Server.Files;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Messages;

/// <summary>Turns stored messages into their wire form, with reaction counts as the caller sees them.</summary>
internal static class MessageViews
{
    /// <summary>
    /// Messages with their reactions, mentions and attachments, looked up only for the messages whose flags
    /// (<see cref="Message.HasReactions"/>, …) say they have any: a page of plain text costs no further round trip.
    /// </summary>
    public static async Task<List<MessageResponse>> ToResponsesAsync(
        ConnTextDbContext db, IReadOnlyList<Message> messages, Guid caller, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return [];
        }

        var reacted = messages.Where(m => m.HasReactions).Select(m => m.Id).Distinct().ToList();
        var mentioning = messages.Where(m => m.HasMentions).Select(m => m.Id).Distinct().ToList();
        var attaching = messages.Where(m => m.HasAttachments).Select(m => m.Id).Distinct().ToList();
        var counts = reacted.Count == 0 ? [] : await db.MessageReactions.AsNoTracking()
            .Where(r => reacted.Contains(r.MessageId))
            .GroupBy(r => new { r.MessageId, r.Emoji })
            .Select(g => new ReactionCount(g.Key.MessageId, g.Key.Emoji, g.Count(), g.Count(r => r.UserId == caller)))
            .ToListAsync(cancellationToken);
        var mentions = (mentioning.Count == 0 ? [] : await db.MessageMentions.AsNoTracking()
            .Where(m => mentioning.Contains(m.MessageId))
            .ToListAsync(cancellationToken)).ToLookup(m => m.MessageId, m => m.UserId);
        var attachments = attaching.Count == 0
            ? Array.Empty<(Guid, FileResponse)>().ToLookup(a => a.Item1, a => a.Item2)
            : await Attachments.ForMessagesAsync(db, attaching, cancellationToken);
        var byMessage = counts.ToLookup(c => c.MessageId);
        var callIds = messages.Where(m => m.CallId is not null).Select(m => m.CallId!.Value).Distinct().ToList();
        var calls = callIds.Count == 0
            ? []
            : await db.Calls.AsNoTracking().Where(c => callIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, Calls.CallViews.Summary, cancellationToken);
        return messages.Select(m => ToResponse(m, byMessage[m.Id]
                .OrderBy(c => c.Emoji, StringComparer.Ordinal)
                .Select(c => new ReactionCountResponse(c.Emoji, c.Count, c.Mine > 0))
                .ToList(), mentions[m.Id].Order().ToList(), attachments[m.Id].ToList(),
                m.CallId is { } callId ? calls.GetValueOrDefault(callId) : null))
            .ToList();
    }

    public static async Task<MessageResponse> ToResponseAsync(ConnTextDbContext db, Message message, Guid caller, CancellationToken cancellationToken) =>
        (await ToResponsesAsync(db, [message], caller, cancellationToken))[0];

    private sealed record ReactionCount(Guid MessageId, string Emoji, int Count, int Mine);

    private static MessageResponse ToResponse(
        Message m, IReadOnlyList<ReactionCountResponse> reactions, IReadOnlyList<Guid> mentions, IReadOnlyList<FileResponse> attachments,
        Contracts.Calls.CallSummaryResponse? call) =>
        new(m.Id, m.ConversationId, m.Sequence, m.Kind, m.SenderId, m.ClientMessageId, m.DeletedAt is null ? m.Text : null,
            m.ReplyToMessageId, m.SystemEvent, m.SubjectUserId, m.CreatedAt, m.EditedAt, m.DeletedAt, reactions, mentions, attachments, call);
}
