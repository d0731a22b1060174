using System.Security.Claims;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Auth;
using ConnText.Server.Conversations;
using ConnText.Server.Data;
using ConnText.Server.Files;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Messages;

/// <summary>
/// Messages, reactions, history, the event log clients sync from, and read markers. Every change is a
/// sequenced event (<see cref="Sequencer"/>); every route answers a non-member exactly like a missing conversation.
/// </summary>
internal static class MessagesEndpoints
{
    public const int MaxHistoryPage = 100;
    public const int MaxEventsPage = 500;

    public static IServiceCollection AddMessages(this IServiceCollection services)
    {
        services.TryAddSingleton<IConversationEventNotifier, NoConversationEventNotifier>();
        return services;
    }

    public static RouteGroupBuilder MapMessagesEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/conversations/{conversationId:guid}").WithTags("Messages");

        group.MapPost("/messages", SendAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("SendMessage")
            .WithSummary("Send a message")
            .WithDescription("201 with the stored message and its sequence. A retry with the same clientMessageId returns the stored message with 200 and takes no new sequence.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/messages", HistoryAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("ListMessages")
            .WithSummary("Read the history")
            .WithDescription("Keyset pages by sequence: before (default: the newest) or after a sequence; limit 1 to 100 (default 50). Oldest first within a page.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPatch("/messages/{messageId:guid}", EditAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("EditMessage")
            .WithSummary("Edit my message")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapDelete("/messages/{messageId:guid}", DeleteAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("DeleteMessage")
            .WithSummary("Delete a message")
            .WithDescription("The sender, or a group's owner or admin. Leaves a tombstone: no text, deletedAt set.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPut("/messages/{messageId:guid}/reactions/{emoji}", AddReactionAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("AddReaction")
            .WithSummary("React to a message")
            .WithDescription("Idempotent: reacting twice with one emoji changes nothing the second time.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapDelete("/messages/{messageId:guid}/reactions/{emoji}", RemoveReactionAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("RemoveReaction")
            .WithSummary("Take my reaction back")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/events", EventsAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("ListConversationEvents")
            .WithSummary("Sync: every event after a sequence")
            .WithDescription("In sequence order, limit 1 to 500 (default 100). A client that was away applies them to converge.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/read", MarkReadAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("MarkConversationRead")
            .WithSummary("Move my read marker")
            .WithDescription("Never moves backwards; a sequence beyond the latest is capped to it.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    internal static async Task<Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> SendAsync(
        Guid conversationId, SendMessageRequest request, ClaimsPrincipal caller, ConnTextDbContext db, IOptions<MessagingOptions> options,
        TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.ClientMessageId is null || request.ClientMessageId == Guid.Empty)
        {
            errors["clientMessageId"] = ["A client-chosen GUID (not all zeros) is required, so a retry is stored once."];
        }

        // A message with files may have no text (a photo without caption).
        var attachmentIds = request.AttachmentIds ?? [];
        var text = attachmentIds.Count > 0 && string.IsNullOrEmpty(request.Text) ? null : request.Text;
        if (text is not null || attachmentIds.Count == 0)
        {
            ValidateText(text, options.Value, errors);
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The message is not valid");
        }

        var clientMessageId = request.ClientMessageId!.Value;
        var now = time.GetUtcNow();
        SendRefusal refusal = default;
        string? refusalDetail = null;
        var retried = false;
        Message? created = null;
        Message? stored = null;
        if (PlainSend.Applies(attachmentIds.Count, request.ReplyToMessageId, text))
        {
            // The common case: plain SQL, on PostgreSQL one round trip (ADR 0025, ADR 0026).
            (var outcome, created) = await PlainSend.StoreAsync(db, conversationId, me, clientMessageId, text!, now, cancellationToken);
            refusal = outcome switch
            {
                PlainSend.Outcome.NotFound => SendRefusal.NotFound,
                PlainSend.Outcome.PeerToPeer => SendRefusal.PeerToPeer,
                _ => SendRefusal.None,
            };
            retried = outcome == PlainSend.Outcome.AlreadySent;
        }
        else
        {
            // Otherwise a member's new message is four round trips: the sequence, one look-up of membership and of an
            // earlier send with this clientMessageId, the inserts and the commit. Everything else rolls back.
            try
            {
                await Sequencer.InTransactionAsync(db, async ct =>
                {
                    refusal = default;
                    refusalDetail = null;
                    retried = false;
                    created = null;
                    var sequence = await Sequencer.NextAsync(db, conversationId, now, ct);
                    // After the sequence (so under the conversation's lock, and read after a concurrent removal committed):
                    // a member removed meanwhile is refused, and a concurrent retry that committed meanwhile is seen.
                    var check = sequence is null ? null : await CheckSend.For(db)(db, conversationId, me, clientMessageId, ct);
                    if (check is null)
                    {
                        refusal = SendRefusal.NotFound;
                    }
                    else if (check.AlreadySent)
                    {
                        // A retry of a stored message: answered with it, whatever has changed since (its files are attached now).
                        retried = true;
                    }
                    else if (check.Kind == ConversationKinds.PeerToPeer)
                    {
                        // The point of the mode: the server never holds such a message, not even by a client's mistake.
                        refusal = SendRefusal.PeerToPeer;
                    }
                    else if (attachmentIds.Count > 0 && await Attachments.CheckAsync(db, me, attachmentIds, ct) is { } attachmentError)
                    {
                        (refusal, refusalDetail) = (SendRefusal.Attachments, attachmentError);
                    }
                    else if (request.ReplyToMessageId is { } replyTo
                             && !await db.Messages.AnyAsync(m => m.Id == replyTo && m.ConversationId == conversationId, ct))
                    {
                        refusal = SendRefusal.ReplyTo;
                    }

                    if (refusal != SendRefusal.None || retried)
                    {
                        // Gives the sequence number back.
                        await Sequencer.RollbackAsync(db, ct);
                        return 0;
                    }

                    created = new Message
                    {
                        Id = Guid.CreateVersion7(now),
                        ConversationId = conversationId,
                        Sequence = sequence!.Value,
                        Kind = MessageKinds.Text,
                        SenderId = me,
                        ClientMessageId = clientMessageId,
                        Text = text,
                        ReplyToMessageId = request.ReplyToMessageId,
                        CreatedAt = now,
                    };
                    db.Messages.Add(created);
                    Attachments.Add(db, created, attachmentIds);
                    await Mentions.AddAsync(db, created, text ?? "", ct);
                    AddEvent(db, created, ConversationEventKinds.MessageCreated, me, now);
                    await db.SaveChangesAsync(ct);
                    return 0;
                }, cancellationToken);
            }
            catch (DbUpdateException ex) when (Sequencer.IsUniqueViolation(ex))
            {
                // Belt and braces: the unique (conversation, sender, clientMessageId) index refused a duplicate the check missed.
                db.ChangeTracker.Clear();
                created = null;
                stored = await FindSentAsync(db, conversationId, me, clientMessageId, cancellationToken);
                if (stored is null)
                {
                    throw;
                }

                retried = true;
            }
        }

        switch (refusal)
        {
            case SendRefusal.NotFound:
                return Membership.NotFound();
            case SendRefusal.PeerToPeer:
                return Membership.Conflict("Messages of a peer-to-peer conversation go device to device; the server does not take them.");
            case SendRefusal.Attachments:
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["attachmentIds"] = [refusalDetail!] },
                    type: ProblemTypes.Validation, title: "The message is not valid");
            case SendRefusal.ReplyTo:
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["replyToMessageId"] = ["No message with this id in this conversation."] },
                    type: ProblemTypes.Validation, title: "The message is not valid");
        }

        if (retried)
        {
            // Messages are never removed (a delete blanks the text), so the one seen under the lock is still there.
            stored ??= await FindSentAsync(db, conversationId, me, clientMessageId, cancellationToken)
                       ?? throw new InvalidOperationException("A stored message was seen for this clientMessageId, and then not found.");
            return TypedResults.Ok(await MessageViews.ToResponseAsync(db, stored, me, cancellationToken));
        }

        // Every way out of the transaction is a refusal, a retry or a stored message.
        if (created is null)
        {
            throw new InvalidOperationException("A send ended neither refused, nor retried, nor stored.");
        }

        // A new message has no reactions yet; its mentions and files are looked up only when it has any.
        var response = await MessageViews.ToResponseAsync(db, created, me, cancellationToken);
        await notifier.AppendedAsync(NewEvent(created, ConversationEventKinds.MessageCreated, me, now), response, cancellationToken);
        return TypedResults.Created($"/api/v1/conversations/{conversationId}/messages/{created.Id}", response);
    }

    private static async Task<Results<Ok<MessagePageResponse>, ValidationProblem, ProblemHttpResult>> HistoryAsync(
        Guid conversationId, ClaimsPrincipal caller, ConnTextDbContext db, CancellationToken cancellationToken,
        long? before = null, long? after = null, int limit = 50)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (before is not null && after is not null)
        {
            errors["before"] = ["Give before or after, not both."];
        }

        if (before is < 1 || after is < 0)
        {
            errors[before is < 1 ? "before" : "after"] = ["Sequences start at 1; after may be 0."];
        }

        if (limit is < 1 or > MaxHistoryPage)
        {
            errors["limit"] = [$"A page holds 1 to {MaxHistoryPage} messages."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The history request is not valid");
        }

        var me = caller.UserId();
        var rows = new List<Message>(limit + 1);
        var query = after is { } a
            ? PageAfter.For(db)(db, conversationId, me, a, limit + 1)
            : PageBefore.For(db)(db, conversationId, me, before ?? long.MaxValue, limit + 1);
        await foreach (var row in query.WithCancellation(cancellationToken))
        {
            rows.Add(row);
        }

        if (rows.Count == 0 && await Membership.FindAsync(db, conversationId, me, cancellationToken) is null)
        {
            return Membership.NotFound();
        }

        var hasMore = rows.Count > limit;
        var page = rows.Take(limit).OrderBy(m => m.Sequence).ToList();
        return TypedResults.Ok(new MessagePageResponse(await MessageViews.ToResponsesAsync(db, page, me, cancellationToken), hasMore));
    }

    // The page queries, newest first below a sequence (long.MaxValue: the newest page) or oldest first above one.
    // - The membership check rides in the query (an uncorrelated EXISTS the database evaluates once): a member's
    //   non-empty page costs one round trip less. Only an empty page needs the separate check, to tell a non-member
    //   (404) from an empty conversation.
    // - Whether each message has reactions, mentions or attachments is stored with it (Message.HasReactions, …): the
    //   look-ups that follow only run for the messages that have any, and the page reads no other table.
    // - Compiled once: EF no longer walks the expression tree on every page to extract parameters and find the cached
    //   query (docs/performance.md, "History paging").
    private static readonly PerModelQuery<Func<ConnTextDbContext, Guid, Guid, long, int, IAsyncEnumerable<Message>>> PageBefore = new(() =>
        EF.CompileAsyncQuery((ConnTextDbContext db, Guid conversationId, Guid me, long before, int take) =>
            db.Messages.AsNoTracking()
                .Where(m => m.ConversationId == conversationId && m.Sequence < before
                    && db.ConversationMembers.Any(cm => cm.ConversationId == conversationId && cm.UserId == me))
                .OrderByDescending(m => m.Sequence)
                .Take(take)));

    private static readonly PerModelQuery<Func<ConnTextDbContext, Guid, Guid, long, int, IAsyncEnumerable<Message>>> PageAfter = new(() =>
        EF.CompileAsyncQuery((ConnTextDbContext db, Guid conversationId, Guid me, long after, int take) =>
            db.Messages.AsNoTracking()
                .Where(m => m.ConversationId == conversationId && m.Sequence > after
                    && db.ConversationMembers.Any(cm => cm.ConversationId == conversationId && cm.UserId == me))
                .OrderBy(m => m.Sequence)
                .Take(take)));

    private static async Task<Results<Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> EditAsync(
        Guid conversationId, Guid messageId, EditMessageRequest request, ClaimsPrincipal caller, ConnTextDbContext db,
        IOptions<MessagingOptions> options, TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        ValidateText(request.Text, options.Value, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The edit is not valid");
        }

        var me = caller.UserId();
        var (refusal, changed) = await ChangeMessageAsync(
            db, conversationId, messageId, me, time.GetUtcNow(), async (member, message, now, ct) =>
            {
                if (message.SenderId != me || message.Kind != MessageKinds.Text)
                {
                    return (Membership.Forbidden("Only the sender edits a message."), null);
                }

                if (message.DeletedAt is not null)
                {
                    return (Membership.Conflict("A deleted message cannot be edited."), null);
                }

                message.Text = request.Text;
                message.EditedAt = now;
                await Mentions.SetAsync(db, message, message.Text, ct);
                return (null, new ConversationEvent { Kind = ConversationEventKinds.MessageEdited });
            }, notifier, cancellationToken);
        return refusal is not null ? refusal : TypedResults.Ok(changed!);
    }

    private static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> DeleteAsync(
        Guid conversationId, Guid messageId, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var (refusal, changed) = await ChangeMessageAsync(
            db, conversationId, messageId, me, time.GetUtcNow(), async (member, message, now, ct) =>
            {
                var isSender = message.SenderId == me && message.Kind == MessageKinds.Text;
                if (!isSender && !Membership.ManagesMembers(member))
                {
                    return (Membership.Forbidden("Only the sender, or a group's owner or admin, deletes a message."), null);
                }

                if (message.DeletedAt is not null)
                {
                    return (null, null); // already a tombstone: nothing changes, no event
                }

                message.Text = null;
                message.DeletedAt = now;
                await Mentions.SetAsync(db, message, null, ct);
                // A tombstone keeps no reactions; the message.deleted event tells clients to drop theirs.
                await db.MessageReactions.Where(r => r.MessageId == message.Id).ExecuteDeleteAsync(ct);
                message.HasReactions = false;
                // Its files stop being readable through this conversation, for everyone.
                await Attachments.DetachAsync(db, message, now, ct);
                return (null, new ConversationEvent { Kind = ConversationEventKinds.MessageDeleted });
            }, notifier, cancellationToken);
        return refusal is not null ? refusal : TypedResults.Ok(changed!);
    }

    private static async Task<Results<Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> AddReactionAsync(
        Guid conversationId, Guid messageId, string emoji, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        if (ValidateEmoji(emoji) is { } invalid)
        {
            return invalid;
        }

        var me = caller.UserId();
        var (refusal, changed) = await ChangeMessageAsync(
            db, conversationId, messageId, me, time.GetUtcNow(), async (member, message, now, ct) =>
            {
                if (message.DeletedAt is not null)
                {
                    return (Membership.Conflict("A deleted message takes no reactions."), null);
                }

                // The write lock is held (the sequence was taken first), so this check cannot race another toggle.
                if (await db.MessageReactions.AnyAsync(r => r.MessageId == message.Id && r.UserId == me && r.Emoji == emoji, ct))
                {
                    return (null, null);
                }

                db.MessageReactions.Add(new MessageReaction { MessageId = message.Id, UserId = me, Emoji = emoji, CreatedAt = now });
                message.HasReactions = true;
                return (null, new ConversationEvent { Kind = ConversationEventKinds.ReactionAdded, Emoji = emoji });
            }, notifier, cancellationToken);
        return refusal is not null ? refusal : TypedResults.Ok(changed!);
    }

    private static async Task<Results<Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> RemoveReactionAsync(
        Guid conversationId, Guid messageId, string emoji, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        if (ValidateEmoji(emoji) is { } invalid)
        {
            return invalid;
        }

        var me = caller.UserId();
        var (refusal, changed) = await ChangeMessageAsync(
            db, conversationId, messageId, me, time.GetUtcNow(), async (member, message, now, ct) =>
            {
                var reaction = await db.MessageReactions.FirstOrDefaultAsync(r => r.MessageId == message.Id && r.UserId == me && r.Emoji == emoji, ct);
                if (reaction is null)
                {
                    return (null, null);
                }

                db.MessageReactions.Remove(reaction);
                // Read under the write lock, so no other toggle of this message's reactions runs in between.
                message.HasReactions = await db.MessageReactions.AnyAsync(
                    r => r.MessageId == message.Id && !(r.UserId == me && r.Emoji == emoji), ct);
                return (null, new ConversationEvent { Kind = ConversationEventKinds.ReactionRemoved, Emoji = emoji });
            }, notifier, cancellationToken);
        return refusal is not null ? refusal : TypedResults.Ok(changed!);
    }

    internal static async Task<Results<Ok<ConversationEventPageResponse>, ValidationProblem, ProblemHttpResult>> EventsAsync(
        Guid conversationId, ClaimsPrincipal caller, ConnTextDbContext db, CancellationToken cancellationToken, long after = 0, int limit = 100)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (after < 0)
        {
            errors["after"] = ["Give the last sequence seen, 0 for everything."];
        }

        if (limit is < 1 or > MaxEventsPage)
        {
            errors["limit"] = [$"A page holds 1 to {MaxEventsPage} events."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The sync request is not valid");
        }

        var me = caller.UserId();
        if (await Membership.FindAsync(db, conversationId, me, cancellationToken) is null)
        {
            return Membership.NotFound();
        }

        var events = await db.ConversationEvents.AsNoTracking()
            .Where(e => e.ConversationId == conversationId && e.Sequence > after)
            .OrderBy(e => e.Sequence).Take(limit + 1)
            .ToListAsync(cancellationToken);
        // Read after the events (counter and event commit together), so it is never behind the last item returned.
        var lastSequence = await db.Conversations.Where(c => c.Id == conversationId).Select(c => c.LastSequence).SingleAsync(cancellationToken);
        var hasMore = events.Count > limit;
        events = events.Take(limit).ToList();
        var messageIds = events.Where(e => e.MessageId is not null).Select(e => e.MessageId!.Value).Distinct().ToList();
        var messages = await db.Messages.AsNoTracking().Where(m => messageIds.Contains(m.Id)).ToListAsync(cancellationToken);
        var views = (await MessageViews.ToResponsesAsync(db, messages, me, cancellationToken)).ToDictionary(m => m.Id);
        var items = events.Select(e => new ConversationEventResponse(
            e.Sequence, e.Kind, e.ActorId, e.CreatedAt, e.MessageId,
            e.MessageId is { } id ? views.GetValueOrDefault(id) : null, e.Emoji, e.SubjectUserId, e.Role)).ToList();
        return TypedResults.Ok(new ConversationEventPageResponse(items, lastSequence, hasMore));
    }

    internal static async Task<Results<Ok<ReadStateResponse>, ValidationProblem, ProblemHttpResult>> MarkReadAsync(
        Guid conversationId, MarkReadRequest request, ClaimsPrincipal caller, ConnTextDbContext db, IConversationEventNotifier notifier,
        CancellationToken cancellationToken)
    {
        if (request.Sequence < 0)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["sequence"] = ["A sequence is 0 or more."] },
                type: ProblemTypes.Validation, title: "The read marker is not valid");
        }

        var me = caller.UserId();
        if (await Membership.FindAsync(db, conversationId, me, cancellationToken) is null)
        {
            return Membership.NotFound();
        }

        var latest = await db.Conversations.Where(c => c.Id == conversationId).Select(c => c.LastSequence).SingleAsync(cancellationToken);
        var target = Math.Min(request.Sequence, latest);
        // Conditional update: concurrent markers from several devices can only move it forward.
        var moved = await db.ConversationMembers
            .Where(m => m.ConversationId == conversationId && m.UserId == me && m.LastReadSequence < target)
            .ExecuteUpdateAsync(m => m.SetProperty(x => x.LastReadSequence, target), cancellationToken);
        if (moved > 0)
        {
            await notifier.ReadAsync(conversationId, me, target);
        }

        var stored = await db.ConversationMembers.Where(m => m.ConversationId == conversationId && m.UserId == me)
            .Select(m => m.LastReadSequence).SingleAsync(cancellationToken);
        return TypedResults.Ok(new ReadStateResponse(stored));
    }

    /// <summary>
    /// The shared shape of edit, delete and reaction toggles: in one transaction take the sequence (and with it
    /// the write lock), check membership and the message, let <paramref name="change"/> decide, and store the
    /// event under that sequence, or roll back when it refuses or changes nothing (so no sequence is spent).
    /// </summary>
    private static async Task<(ProblemHttpResult? Refusal, MessageResponse? Message)> ChangeMessageAsync(
        ConnTextDbContext db, Guid conversationId, Guid messageId, Guid me, DateTimeOffset now,
        Func<ConversationMember, Message, DateTimeOffset, CancellationToken, Task<(ProblemHttpResult? Refusal, ConversationEvent? Event)>> change,
        IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        // Strangers are turned away before they can queue on the conversation's write lock.
        if (await Membership.FindAsync(db, conversationId, me, cancellationToken) is null)
        {
            return (Membership.NotFound(), null);
        }

        ConversationEvent? stored = null;
        var (refusal, message) = await Sequencer.InTransactionAsync(db, async ct =>
        {
            stored = null;
            var sequence = await Sequencer.NextAsync(db, conversationId, now, ct);
            var member = sequence is null ? null : await db.ConversationMembers.AsNoTracking()
                .FirstOrDefaultAsync(m => m.ConversationId == conversationId && m.UserId == me, ct);
            if (member is null)
            {
                await Sequencer.RollbackAsync(db, ct);
                return (Membership.NotFound(), (Message?)null);
            }

            var message = await db.Messages.FirstOrDefaultAsync(m => m.Id == messageId && m.ConversationId == conversationId, ct);
            if (message is null)
            {
                await Sequencer.RollbackAsync(db, ct);
                return (TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
                    title: "Not Found", detail: "No message with this id in this conversation."), null);
            }

            var (problem, @event) = await change(member, message, now, ct);
            if (problem is not null || @event is null)
            {
                await Sequencer.RollbackAsync(db, ct);
                return (problem, problem is null ? message : null);
            }

            @event.ConversationId = conversationId;
            @event.Sequence = sequence!.Value;
            @event.ActorId = me;
            @event.MessageId = message.Id;
            @event.CreatedAt = now;
            db.ConversationEvents.Add(@event);
            await db.SaveChangesAsync(ct);
            stored = @event;
            return ((ProblemHttpResult?)null, message);
        }, cancellationToken);

        if (refusal is not null)
        {
            return (refusal, null);
        }

        var response = await MessageViews.ToResponseAsync(db, message!, me, cancellationToken);
        if (stored is not null)
        {
            await notifier.AppendedAsync(stored, response, cancellationToken);
        }

        return (null, response);
    }

    private static void AddEvent(ConnTextDbContext db, Message message, string kind, Guid actor, DateTimeOffset now) =>
        db.ConversationEvents.Add(NewEvent(message, kind, actor, now));

    private static ConversationEvent NewEvent(Message message, string kind, Guid actor, DateTimeOffset now) =>
        new()
        {
            ConversationId = message.ConversationId,
            Sequence = message.Sequence,
            Kind = kind,
            ActorId = actor,
            MessageId = message.Id,
            CreatedAt = now,
        };

    private static Task<Message?> FindSentAsync(ConnTextDbContext db, Guid conversationId, Guid sender, Guid clientMessageId, CancellationToken cancellationToken) =>
        FindSent.For(db)(db, conversationId, sender, clientMessageId, cancellationToken);

    // Sending is the hottest write: its look-ups are compiled queries (EF skips its per-call expression work).
    private static readonly PerModelQuery<Func<ConnTextDbContext, Guid, Guid, Guid, CancellationToken, Task<Message?>>> FindSent = new(() =>
        EF.CompileAsyncQuery((ConnTextDbContext db, Guid conversationId, Guid sender, Guid clientMessageId, CancellationToken cancellationToken) =>
            db.Messages.AsNoTracking().FirstOrDefault(
                m => m.ConversationId == conversationId && m.SenderId == sender && m.ClientMessageId == clientMessageId)));

    /// <summary>
    /// For a send: the conversation's kind when the user is a member of it (null otherwise, or when there is no such
    /// conversation), and whether this sender already stored a message with this clientMessageId there.
    /// </summary>
    private static readonly PerModelQuery<Func<ConnTextDbContext, Guid, Guid, Guid, CancellationToken, Task<SendCheckRow?>>> CheckSend = new(() =>
        EF.CompileAsyncQuery((ConnTextDbContext db, Guid conversationId, Guid me, Guid clientMessageId, CancellationToken cancellationToken) =>
            db.Conversations
                .Where(c => c.Id == conversationId && db.ConversationMembers.Any(m => m.ConversationId == conversationId && m.UserId == me))
                .Select(c => new SendCheckRow(c.Kind, db.Messages.Any(
                    m => m.ConversationId == conversationId && m.SenderId == me && m.ClientMessageId == clientMessageId)))
                .FirstOrDefault()));

    private sealed record SendCheckRow(string Kind, bool AlreadySent);

    private enum SendRefusal
    {
        None,
        NotFound,
        PeerToPeer,
        Attachments,
        ReplyTo,
    }

    private static void ValidateText(string? text, MessagingOptions options, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > options.MaxMessageChars)
        {
            errors["text"] = [$"A message has 1 to {options.MaxMessageChars} characters and is not only whitespace."];
        }
        else if (text.Contains('\0', StringComparison.Ordinal))
        {
            // PostgreSQL's text cannot hold U+0000; refused on either database, so a message is portable between them.
            errors["text"] = ["A message cannot contain the NUL character (U+0000)."];
        }
    }

    private static ValidationProblem? ValidateEmoji(string emoji) =>
        emoji.Length is 0 or > Message.EmojiMaxLength || emoji.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            ? TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["emoji"] = [$"An emoji has 1 to {Message.EmojiMaxLength} characters without spaces."] },
                type: ProblemTypes.Validation, title: "The reaction is not valid")
            : null;
}
