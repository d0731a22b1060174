using System.Security.Claims;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Problems;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using ConnText.Server.Hosting;
using ConnText.Server.Messages;
using ConnText.Server.Realtime;
using ConnText.Contracts.Realtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Conversations;

/// <summary>Direct conversations and groups, their members, and my per-conversation settings.</summary>
internal static class ConversationsEndpoints
{
    public const int MaxPageSize = 100;

    public static IServiceCollection AddConversations(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSection<MessagingOptions>(MessagingOptions.Section);
        if (options.MaxGroupMembers < 2)
        {
            throw new StartupException("ConnText:Messaging:MaxGroupMembers", "a group needs room for at least 2 members.");
        }

        if (options.MaxMessageChars < 1)
        {
            throw new StartupException("ConnText:Messaging:MaxMessageChars", "must be at least 1.");
        }

        services.Configure<MessagingOptions>(configuration.GetSection(MessagingOptions.Section));
        return services;
    }

    public static RouteGroupBuilder MapConversationsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/conversations").WithTags("Conversations");

        group.MapPost("/", CreateAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("CreateConversation")
            .WithSummary("Start a direct conversation or create a group")
            .WithDescription("A direct conversation exists once per pair of users: creating it again returns the existing one with 200.")
            .ProducesValidationProblem();

        group.MapGet("/", ListAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("ListConversations")
            .WithSummary("List my conversations")
            .WithDescription("Most recent activity first, with the last message, my unread count and my mute setting.")
            .ProducesValidationProblem();

        group.MapGet("/{conversationId:guid}", GetAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("GetConversation")
            .WithSummary("Get one of my conversations")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPut("/{conversationId:guid}/settings", UpdateSettingsAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("UpdateMyConversationSettings")
            .WithSummary("Mute or unmute a conversation for me")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/{conversationId:guid}/members", AddMemberAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("AddConversationMember")
            .WithSummary("Add a member to a group")
            .WithDescription("Owner or admin only. Leaves a member.joined system message.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapDelete("/{conversationId:guid}/members/{userId:guid}", RemoveMemberAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("RemoveConversationMember")
            .WithSummary("Remove a member from a group")
            .WithDescription("The owner removes anyone else; an admin removes members. Leaves a member.left system message.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapPost("/{conversationId:guid}/leave", LeaveAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("LeaveConversation")
            .WithSummary("Leave a group")
            .WithDescription("An owner who leaves hands ownership to the longest-standing admin, else member. Leaves a member.left system message.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        GroupAdministration.Map(group);
        GroupAvatars.Map(group);
        return group;
    }

    private static async Task<Results<Created<ConversationResponse>, Ok<ConversationResponse>, ValidationProblem>> CreateAsync(
        CreateConversationRequest request, ClaimsPrincipal caller, ConnTextDbContext db, IOptions<MessagingOptions> options,
        TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var others = (request.MemberIds ?? []).Where(id => id != me).Distinct().ToList();
        var title = request.Title?.Trim();
        var topic = request.Topic?.Trim();
        switch (request.Kind)
        {
            case ConversationKinds.Direct or ConversationKinds.PeerToPeer:
                if (others.Count != 1 || (request.MemberIds ?? []).Distinct().Count() != 1)
                {
                    errors["memberIds"] = ["A direct conversation needs exactly one other user's id."];
                }

                if (request.Title is not null || request.Topic is not null)
                {
                    errors["title"] = ["Direct conversations have no title or topic."];
                }

                break;

            case ConversationKinds.Group:
                if (Conversation.TitleError(title) is { } titleError)
                {
                    errors["title"] = [titleError];
                }

                if (Conversation.TopicError(topic) is { } topicError)
                {
                    errors["topic"] = [topicError];
                }

                if (others.Count + 1 > options.Value.MaxGroupMembers)
                {
                    errors["memberIds"] = [$"A group has at most {options.Value.MaxGroupMembers} members, its creator included."];
                }

                break;

            default:
                errors["kind"] = ["Give \"direct\", \"group\" or \"peer-to-peer\"."];
                break;
        }

        if (errors.Count == 0 && others.Count > 0)
        {
            var known = await db.Users.AsNoTracking().Where(u => others.Contains(u.Id) && !u.IsDisabled).CountAsync(cancellationToken);
            if (known != others.Count)
            {
                errors["memberIds"] = ["One or more user ids do not belong to an active user."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The conversation request is not valid");
        }

        var now = time.GetUtcNow();
        if (request.Kind == ConversationKinds.Direct)
        {
            var (low, high) = me.CompareTo(others[0]) < 0 ? (me, others[0]) : (others[0], me);
            if (await FindDirectAsync(db, low, high, cancellationToken) is { } existing)
            {
                return TypedResults.Ok(await LoadAsync(db, existing, me, cancellationToken));
            }

            var direct = NewConversation(ConversationKinds.Direct, null, null, now);
            direct.DirectUserLow = low;
            direct.DirectUserHigh = high;
            db.Conversations.Add(direct);
            db.ConversationMembers.Add(NewMember(direct.Id, me, MemberRoles.Member, now));
            db.ConversationMembers.Add(NewMember(direct.Id, others[0], MemberRoles.Member, now));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (Sequencer.IsUniqueViolation(ex))
            {
                // Both users started it at the same moment: the unique ordered pair let one win; answer with that one.
                db.ChangeTracker.Clear();
                var winner = await FindDirectAsync(db, low, high, cancellationToken)
                    ?? throw new InvalidOperationException("A direct conversation vanished right after a unique violation.", ex);
                return TypedResults.Ok(await LoadAsync(db, winner, me, cancellationToken));
            }

            await notifier.CreatedAsync(direct.Id, [me, others[0]]);
            return Created(await LoadAsync(db, direct, me, cancellationToken));
        }

        if (request.Kind == ConversationKinds.PeerToPeer)
        {
            // One per pair, found by its members (the direct pair index is the server-mode conversation's).
            var other = others[0];
            var existing = await db.Conversations.AsNoTracking()
                .Where(c => c.Kind == ConversationKinds.PeerToPeer
                            && db.ConversationMembers.Any(m => m.ConversationId == c.Id && m.UserId == me)
                            && db.ConversationMembers.Any(m => m.ConversationId == c.Id && m.UserId == other))
                .FirstOrDefaultAsync(cancellationToken);
            if (existing is not null)
            {
                return TypedResults.Ok(await LoadAsync(db, existing, me, cancellationToken));
            }

            var peerToPeer = NewConversation(ConversationKinds.PeerToPeer, null, null, now);
            db.Conversations.Add(peerToPeer);
            db.ConversationMembers.Add(NewMember(peerToPeer.Id, me, MemberRoles.Member, now));
            db.ConversationMembers.Add(NewMember(peerToPeer.Id, other, MemberRoles.Member, now));
            await db.SaveChangesAsync(cancellationToken);
            await notifier.CreatedAsync(peerToPeer.Id, [me, other]);
            return Created(await LoadAsync(db, peerToPeer, me, cancellationToken));
        }

        var group = NewConversation(ConversationKinds.Group, title, string.IsNullOrEmpty(topic) ? null : topic, now);
        db.Conversations.Add(group);
        db.ConversationMembers.Add(NewMember(group.Id, me, MemberRoles.Owner, now));
        foreach (var other in others)
        {
            db.ConversationMembers.Add(NewMember(group.Id, other, MemberRoles.Member, now));
        }

        await db.SaveChangesAsync(cancellationToken);
        await notifier.CreatedAsync(group.Id, [me, .. others]);
        return Created(await LoadAsync(db, group, me, cancellationToken));
    }

    private static async Task<Results<Ok<ConversationPageResponse>, ValidationProblem>> ListAsync(
        ClaimsPrincipal caller, ConnTextDbContext db, CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (page < 1)
        {
            errors["page"] = ["Pages count from 1."];
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"A page holds 1 to {MaxPageSize} conversations."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The listing request is not valid");
        }

        var me = caller.UserId();
        var conversations = await db.ConversationMembers.AsNoTracking()
            .Where(m => m.UserId == me)
            .Join(db.Conversations, m => m.ConversationId, c => c.Id, (m, c) => c)
            .OrderByDescending(c => c.LastActivityAt).ThenByDescending(c => c.Id)
            .Skip((page - 1) * pageSize).Take(pageSize + 1)
            .ToListAsync(cancellationToken);
        var items = await ToResponsesAsync(db, conversations.Take(pageSize).ToList(), me, cancellationToken);
        return TypedResults.Ok(new ConversationPageResponse(items, page, pageSize, conversations.Count > pageSize));
    }

    private static async Task<Results<Ok<ConversationResponse>, ProblemHttpResult>> GetAsync(
        Guid conversationId, ClaimsPrincipal caller, ConnTextDbContext db, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        if (await Membership.FindAsync(db, conversationId, me, cancellationToken) is null)
        {
            return Membership.NotFound();
        }

        var conversation = await db.Conversations.AsNoTracking().SingleAsync(c => c.Id == conversationId, cancellationToken);
        return TypedResults.Ok(await LoadAsync(db, conversation, me, cancellationToken));
    }

    private static async Task<Results<Ok<ConversationResponse>, ProblemHttpResult>> UpdateSettingsAsync(
        Guid conversationId, UpdateMySettingsRequest request, ClaimsPrincipal caller, ConnTextDbContext db, IRealtimeBus bus,
        CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var updated = await db.ConversationMembers.Where(m => m.ConversationId == conversationId && m.UserId == me)
            .ExecuteUpdateAsync(m => m.SetProperty(x => x.Muted, request.Muted), cancellationToken);
        if (updated == 0)
        {
            return Membership.NotFound();
        }

        // My other devices follow at once (a setting is not a sequenced event: nothing to replay).
        await bus.PublishAsync(new RealtimeEnvelope
        {
            Method = RealtimeEvents.ConversationSettingsChanged,
            Payload = new ConversationSettingsChangedEvent(conversationId, request.Muted),
            UserIds = [me],
        });

        var conversation = await db.Conversations.AsNoTracking().SingleAsync(c => c.Id == conversationId, cancellationToken);
        return TypedResults.Ok(await LoadAsync(db, conversation, me, cancellationToken));
    }

    private static async Task<Results<Ok<ConversationResponse>, ValidationProblem, ProblemHttpResult>> AddMemberAsync(
        Guid conversationId, AddMemberRequest request, ClaimsPrincipal caller, ConnTextDbContext db, IOptions<MessagingOptions> options,
        TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var now = time.GetUtcNow();
        ConversationEvent? appended = null;
        var outcome = await Sequencer.InTransactionAsync<Results<Ok<ConversationResponse>, ValidationProblem, ProblemHttpResult>?>(db, async ct =>
        {
            var refusal = await CheckManagerAsync(db, conversationId, me, ct);
            if (refusal is not null)
            {
                return refusal;
            }

            if (!await db.Users.AnyAsync(u => u.Id == request.UserId && !u.IsDisabled, ct))
            {
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["userId"] = ["No active user has this id."] },
                    type: ProblemTypes.Validation, title: "The member request is not valid");
            }

            if (await db.ConversationMembers.AnyAsync(m => m.ConversationId == conversationId && m.UserId == request.UserId, ct))
            {
                return Membership.Conflict("This user is already a member.");
            }

            if (await db.ConversationMembers.CountAsync(m => m.ConversationId == conversationId, ct) >= options.Value.MaxGroupMembers)
            {
                return Membership.Conflict($"The group already has the maximum of {options.Value.MaxGroupMembers} members.");
            }

            // The sequence is taken only once the change is certain; the write lock is already held (see CheckManagerAsync).
            var sequence = (await Sequencer.NextAsync(db, conversationId, now, ct))!.Value;
            db.ConversationMembers.Add(NewMember(conversationId, request.UserId, MemberRoles.Member, now));
            Membership.AddMemberEvent(db, conversationId, sequence, ConversationEventKinds.MemberJoined, me, request.UserId, now);
            await db.SaveChangesAsync(ct);
            appended = db.SavedEvent();
            return null;
        }, cancellationToken);

        if (outcome is null)
        {
            await notifier.NotifyAsync(db, appended, me, cancellationToken);
        }

        return outcome ?? TypedResults.Ok(await LoadAsync(db, await db.Conversations.AsNoTracking().SingleAsync(c => c.Id == conversationId, cancellationToken), me, cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveMemberAsync(
        Guid conversationId, Guid userId, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var now = time.GetUtcNow();
        ConversationEvent? appended = null;
        var refusal = await Sequencer.InTransactionAsync<ProblemHttpResult?>(db, async ct =>
        {
            var problem = await CheckManagerAsync(db, conversationId, me, ct);
            if (problem is not null)
            {
                return problem;
            }

            var actor = await db.ConversationMembers.SingleAsync(m => m.ConversationId == conversationId && m.UserId == me, ct);
            var target = await db.ConversationMembers.FirstOrDefaultAsync(m => m.ConversationId == conversationId && m.UserId == userId, ct);
            if (target is null)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
                    title: "Not Found", detail: "This user is not a member of the conversation.");
            }

            if (userId == me)
            {
                return Membership.Conflict("Use the leave route to leave a group.");
            }

            if (target.Role == MemberRoles.Owner || (target.Role == MemberRoles.Admin && actor.Role != MemberRoles.Owner))
            {
                return Membership.Forbidden("Only the owner removes admins, and nobody removes the owner.");
            }

            var sequence = (await Sequencer.NextAsync(db, conversationId, now, ct))!.Value;
            db.ConversationMembers.Remove(target);
            Membership.AddMemberEvent(db, conversationId, sequence, ConversationEventKinds.MemberLeft, me, userId, now);
            await db.SaveChangesAsync(ct);
            appended = db.SavedEvent();
            return null;
        }, cancellationToken);

        if (refusal is null)
        {
            await notifier.NotifyAsync(db, appended, me, cancellationToken);
        }

        return refusal is null ? TypedResults.NoContent() : refusal;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> LeaveAsync(
        Guid conversationId, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, IConversationEventNotifier notifier, CancellationToken cancellationToken)
    {
        var me = caller.UserId();
        var now = time.GetUtcNow();
        ConversationEvent? appended = null;
        var refusal = await Sequencer.InTransactionAsync<ProblemHttpResult?>(db, async ct =>
        {
            // Take the write lock first (SQLite) so the reads below cannot be overtaken; released by rollback if refused.
            var sequence = await Sequencer.NextAsync(db, conversationId, now, ct);
            var member = await db.ConversationMembers.FirstOrDefaultAsync(m => m.ConversationId == conversationId && m.UserId == me, ct);
            if (sequence is null || member is null)
            {
                await Sequencer.RollbackAsync(db, ct);
                return Membership.NotFound();
            }

            var kind = await db.Conversations.Where(c => c.Id == conversationId).Select(c => c.Kind).SingleAsync(ct);
            if (kind is ConversationKinds.Direct or ConversationKinds.PeerToPeer)
            {
                await Sequencer.RollbackAsync(db, ct);
                return Membership.Conflict("A direct conversation cannot be left.");
            }

            db.ConversationMembers.Remove(member);
            if (member.Role == MemberRoles.Owner)
            {
                var heir = await db.ConversationMembers
                    .Where(m => m.ConversationId == conversationId && m.UserId != me)
                    .OrderBy(m => m.Role == MemberRoles.Admin ? 0 : 1).ThenBy(m => m.JoinedAt).ThenBy(m => m.UserId)
                    .FirstOrDefaultAsync(ct);
                heir?.Role = MemberRoles.Owner;
            }

            Membership.AddMemberEvent(db, conversationId, sequence.Value, ConversationEventKinds.MemberLeft, me, me, now);
            await db.SaveChangesAsync(ct);
            appended = db.SavedEvent();
            return null;
        }, cancellationToken);

        if (refusal is null)
        {
            await notifier.NotifyAsync(db, appended, me, cancellationToken);
        }

        return refusal is null ? TypedResults.NoContent() : refusal;
    }

    /// <summary>
    /// Inside a transaction: the caller must be an owner or admin of a group. On SQLite the empty UPDATE takes the
    /// write lock before the checks read, so a concurrent change cannot slip in between check and write.
    /// </summary>
    internal static async Task<ProblemHttpResult?> CheckManagerAsync(ConnTextDbContext db, Guid conversationId, Guid me, CancellationToken cancellationToken)
    {
        await db.Conversations.Where(c => c.Id == conversationId)
            .ExecuteUpdateAsync(c => c.SetProperty(x => x.LastSequence, x => x.LastSequence), cancellationToken);
        var member = await db.ConversationMembers.AsNoTracking()
            .FirstOrDefaultAsync(m => m.ConversationId == conversationId && m.UserId == me, cancellationToken);
        if (member is null)
        {
            await Sequencer.RollbackAsync(db, cancellationToken);
            return Membership.NotFound();
        }

        var kind = await db.Conversations.Where(c => c.Id == conversationId).Select(c => c.Kind).SingleAsync(cancellationToken);
        ProblemHttpResult? problem = null;
        if (kind is ConversationKinds.Direct or ConversationKinds.PeerToPeer)
        {
            problem = Membership.Conflict("A direct conversation has fixed members.");
        }
        else if (!Membership.ManagesMembers(member))
        {
            problem = Membership.Forbidden("Only the group's owner and admins manage members.");
        }

        if (problem is not null)
        {
            await Sequencer.RollbackAsync(db, cancellationToken);
        }

        return problem;
    }

    private static Task<Conversation?> FindDirectAsync(ConnTextDbContext db, Guid low, Guid high, CancellationToken cancellationToken) =>
        db.Conversations.AsNoTracking().FirstOrDefaultAsync(c => c.DirectUserLow == low && c.DirectUserHigh == high, cancellationToken);

    private static Created<ConversationResponse> Created(ConversationResponse response) =>
        TypedResults.Created($"/api/v1/conversations/{response.Id}", response);

    private static Conversation NewConversation(string kind, string? title, string? topic, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        Kind = kind,
        Title = title,
        Topic = topic,
        CreatedAt = now,
        LastActivityAt = now,
    };

    private static ConversationMember NewMember(Guid conversationId, Guid userId, string role, DateTimeOffset now) => new()
    {
        ConversationId = conversationId,
        UserId = userId,
        Role = role,
        JoinedAt = now,
    };

    internal static async Task<ConversationResponse> LoadAsync(ConnTextDbContext db, Conversation conversation, Guid me, CancellationToken cancellationToken) =>
        (await ToResponsesAsync(db, [conversation], me, cancellationToken))[0];

    /// <summary>A fixed number of queries per page, whatever its size: members, last messages, unread counts.</summary>
    private static async Task<List<ConversationResponse>> ToResponsesAsync(
        ConnTextDbContext db, List<Conversation> conversations, Guid me, CancellationToken cancellationToken)
    {
        if (conversations.Count == 0)
        {
            return [];
        }

        var ids = conversations.Select(c => c.Id).ToList();
        var members = await db.ConversationMembers.AsNoTracking()
            .Where(m => ids.Contains(m.ConversationId))
            .Select(m => new { m.ConversationId, m.UserId, Username = m.User!.UserName, m.User.DisplayName, m.Role, m.JoinedAt, m.LastReadSequence, m.Muted })
            .ToListAsync(cancellationToken);
        var lastMessages = await db.Messages.AsNoTracking()
            .Where(m => ids.Contains(m.ConversationId)
                        && m.Sequence == db.Messages.Where(x => x.ConversationId == m.ConversationId).Max(x => x.Sequence))
            .ToListAsync(cancellationToken);
        var lastResponses = (await MessageViews.ToResponsesAsync(db, lastMessages, me, cancellationToken)).ToDictionary(m => m.ConversationId);
        var unread = await (
                from m in db.Messages
                join mine in db.ConversationMembers on m.ConversationId equals mine.ConversationId
                where mine.UserId == me && ids.Contains(m.ConversationId) && m.Sequence > mine.LastReadSequence
                      && m.SenderId != me && m.Kind == MessageKinds.Text && m.DeletedAt == null
                group m by m.ConversationId into g
                select new { ConversationId = g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.ConversationId, x => x.Count, cancellationToken);
        var membersByConversation = members.ToLookup(m => m.ConversationId);

        return conversations.Select(c =>
        {
            var all = membersByConversation[c.Id].OrderBy(m => m.JoinedAt).ThenBy(m => m.UserId).ToList();
            var mine = all.Single(m => m.UserId == me);
            return new ConversationResponse(
                c.Id, c.Kind, c.Title, c.Topic, c.CreatedAt, c.LastActivityAt, c.LastSequence,
                all.Select(m => new ConversationMemberResponse(m.UserId, m.Username ?? "", m.DisplayName, m.Role, m.JoinedAt, m.LastReadSequence)).ToList(),
                lastResponses.GetValueOrDefault(c.Id), unread.GetValueOrDefault(c.Id), mine.LastReadSequence, mine.Muted, mine.Role,
                GroupAvatars.UrlFor(c));
        }).ToList();
    }
}
