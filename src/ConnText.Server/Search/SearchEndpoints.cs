using System.Security.Claims;
using ConnText.Contracts.Problems;
using ConnText.Contracts.Search;
using ConnText.Server.Auth;
using ConnText.Server.Conversations;
using ConnText.Server.Data;
using ConnText.Server.Data.Postgres;
using ConnText.Server.Hosting;
using ConnText.Server.Messages;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Search;

/// <summary>
/// Full-text search over the messages of the conversations the caller belongs to: PostgreSQL <c>tsvector</c> + GIN,
/// SQLite FTS5 (<see cref="SearchSchema"/>). Newest first with a keyset cursor (docs/adr/0012).
/// </summary>
internal static class SearchEndpoints
{
    public const int MaxPageSize = 50;

    // SQLite keeps DateTimeOffset as this sortable number (SqliteConnTextDbContext); raw SQL compares with the same form.
    private static readonly DateTimeOffsetToBinaryConverter SqliteTime = new();

    public static IServiceCollection AddSearch(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSection<SearchOptions>(SearchOptions.Section);
        if (options.MaxQueryChars is < 1 or > 4096)
        {
            throw new StartupException("ConnText:Search:MaxQueryChars", "must be 1 to 4096.");
        }

        if (options.MaxTerms is < 1 or > 64)
        {
            throw new StartupException("ConnText:Search:MaxTerms", "must be 1 to 64.");
        }

        if (options.SnippetChars < 16)
        {
            throw new StartupException("ConnText:Search:SnippetChars", "must be at least 16.");
        }

        services.Configure<SearchOptions>(configuration.GetSection(SearchOptions.Section));
        return services;
    }

    public static RouteGroupBuilder MapSearchEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/search").WithTags("Search");

        group.MapGet("/messages", SearchMessagesAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("SearchMessages")
            .WithSummary("Search my messages")
            .WithDescription(
                "Messages containing every word of q (letters and digits; anything else only separates words; word* matches a prefix; " +
                "case-insensitive, no stemming), in the conversations I belong to, or in one of them with conversationId. Deleted messages " +
                "are never found, edited ones by their current text. Newest first; limit 1 to 50 (default 20); pass nextCursor as before " +
                "for the next page. Each hit has a plain-text snippet and the matched ranges (UTF-16 offsets) within it.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    private static async Task<Results<Ok<SearchPageResponse>, ValidationProblem, ProblemHttpResult>> SearchMessagesAsync(
        ClaimsPrincipal caller, ConnTextDbContext db, IOptions<SearchOptions> options, CancellationToken cancellationToken,
        string? q = null, Guid? conversationId = null, string? before = null, int limit = 20)
    {
        var settings = options.Value;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        List<SearchTerm> terms = [];
        if (string.IsNullOrWhiteSpace(q) || q.Length > settings.MaxQueryChars)
        {
            errors["q"] = [$"A query has 1 to {settings.MaxQueryChars} characters."];
        }
        else
        {
            terms = SearchQuery.Parse(q);
            if (terms.Count == 0)
            {
                errors["q"] = ["The query has no words to search for (letters or digits)."];
            }
            else if (terms.Count > settings.MaxTerms)
            {
                errors["q"] = [$"A query has at most {settings.MaxTerms} different words."];
            }
        }

        SearchCursor? cursor = null;
        if (before is not null)
        {
            if (SearchCursor.TryParse(before, out var parsed))
            {
                cursor = parsed;
            }
            else
            {
                errors["before"] = ["Not a cursor from a previous page's nextCursor."];
            }
        }

        if (limit is < 1 or > MaxPageSize)
        {
            errors["limit"] = [$"A page holds 1 to {MaxPageSize} results."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The search is not valid");
        }

        var me = caller.UserId();
        if (conversationId is { } only && await Membership.FindAsync(db, only, me, cancellationToken) is null)
        {
            return Membership.NotFound();
        }

        var matches = Matching(db, terms, cursor)
            .AsNoTracking()
            .Where(m => db.ConversationMembers.Any(cm => cm.ConversationId == m.ConversationId && cm.UserId == me));
        if (conversationId is { } id)
        {
            matches = matches.Where(m => m.ConversationId == id);
        }

        var page = await matches
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id)
            .Take(limit + 1)
            .ToListAsync(cancellationToken);
        var hasMore = page.Count > limit;
        page = page.Take(limit).ToList();

        var views = await MessageViews.ToResponsesAsync(db, page, me, cancellationToken);
        var hits = views.Select(view =>
        {
            var (snippet, offset, highlights) = Highlighter.Highlight(view.Text ?? "", terms, settings.SnippetChars);
            return new SearchHitResponse(view, snippet, offset, highlights);
        }).ToList();
        var next = hasMore ? new SearchCursor(page[^1].CreatedAt, page[^1].Id).ToString() : null;
        return TypedResults.Ok(new SearchPageResponse(hits, next));
    }

    /// <summary>
    /// The live messages matching every term, after the cursor. The engine-specific part is raw SQL (EF has no FTS5
    /// and the tsvector is outside the model); the caller composes membership, order and limit onto it with LINQ.
    /// The terms reach the engines only as a bound parameter in the quoted form <see cref="SearchQuery"/> builds.
    /// </summary>
    private static IQueryable<Message> Matching(ConnTextDbContext db, List<SearchTerm> terms, SearchCursor? cursor)
    {
        if (db is PostgresConnTextDbContext)
        {
            var query = SearchQuery.ToTsQuery(terms);
            if (cursor is not { } c)
            {
                return db.Messages.FromSql($"""
                    SELECT m.* FROM messages AS m
                    WHERE m."SearchVector" @@ to_tsquery('simple'::regconfig, {query}) AND m."DeletedAt" IS NULL
                    """);
            }

            return db.Messages.FromSql($"""
                SELECT m.* FROM messages AS m
                WHERE m."SearchVector" @@ to_tsquery('simple'::regconfig, {query}) AND m."DeletedAt" IS NULL
                  AND (m."CreatedAt", m."Id") < ({c.CreatedAt}, {c.Id})
                """);
        }

        var match = SearchQuery.ToFts5(terms);
        if (cursor is not { } s)
        {
            return db.Messages.FromSql($"""
                SELECT m.* FROM messages_fts JOIN messages AS m ON m.rowid = messages_fts.rowid
                WHERE messages_fts MATCH {match} AND m."DeletedAt" IS NULL
                """);
        }

        var createdAt = (long)SqliteTime.ConvertToProvider(s.CreatedAt)!;
        return db.Messages.FromSql($"""
            SELECT m.* FROM messages_fts JOIN messages AS m ON m.rowid = messages_fts.rowid
            WHERE messages_fts MATCH {match} AND m."DeletedAt" IS NULL
              AND (m."CreatedAt" < {createdAt} OR (m."CreatedAt" = {createdAt} AND m."Id" < {s.Id}))
            """);
    }
}
