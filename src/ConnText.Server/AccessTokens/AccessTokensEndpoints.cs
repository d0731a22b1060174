using System.Security.Claims;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Accounts;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ConnText.Server.AccessTokens;

internal static class AccessTokensEndpoints
{
    private const int MaxActiveTokensPerUser = 50;

    public static IServiceCollection AddAccessTokens(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSection<AccessTokensOptions>(AccessTokensOptions.Section);
        if (options.LastUsedWriteIntervalMinutes is < 1 or > 1440)
        {
            throw new StartupException($"{AccessTokensOptions.Section}:LastUsedWriteIntervalMinutes", "must be between 1 and 1440.");
        }

        services.Configure<AccessTokensOptions>(configuration.GetSection(AccessTokensOptions.Section));
        services.TryAddSingleton<LastUseRecorder>();
        return services;
    }

    public static RouteGroupBuilder MapAccessTokensEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Credentials are managed from an app's own login, never with another personal access token.
        var group = endpoints.MapGroup("/me/tokens").WithTags("Personal access tokens").RequireAuthorization(ApiScopes.InteractivePolicy);

        group.MapPost("/", CreateAsync)
            .WithName("CreatePersonalAccessToken")
            .WithSummary("Create a personal access token")
            .WithDescription("For bots and scripts. The secret (ctp_…) is returned once and stored only as a hash.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapGet("/", ListAsync)
            .WithName("ListPersonalAccessTokens")
            .WithSummary("List my personal access tokens")
            .WithDescription("Active tokens without their secrets.");

        group.MapDelete("/{id:guid}", RevokeAsync)
            .WithName("RevokePersonalAccessToken")
            .WithSummary("Revoke a personal access token")
            .WithDescription("Takes effect on the token's next request.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    private static async Task<Results<Created<CreatedPersonalAccessTokenResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreatePersonalAccessTokenRequest request, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > PersonalAccessToken.NameMaxLength || name.Any(char.IsControl))
        {
            errors["name"] = [$"A name of 1 to {PersonalAccessToken.NameMaxLength} printable characters is required."];
        }

        var scopes = (request.Scopes ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (scopes.Count == 0 || scopes.Any(s => !ApiScopes.PersonalTokenScopes.Contains(s)))
        {
            errors["scopes"] = ["Give one or more of: read, write, admin."];
        }

        var days = request.ExpiresInDays ?? 30;
        if (days is < 1 or > 365)
        {
            errors["expiresInDays"] = ["A token lives 1 to 365 days."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The token request is not valid");
        }

        if (scopes.Contains(ApiScopes.Admin) && !caller.IsInRole(Role.Admin))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, type: ProblemTypes.Forbidden,
                title: "Forbidden", detail: "Only administrators can create tokens with the admin scope.");
        }

        var userId = caller.UserId();
        var now = time.GetUtcNow();
        var active = await db.PersonalAccessTokens.CountAsync(t => t.UserId == userId && t.RevokedAt == null && t.ExpiresAt > now, cancellationToken);
        if (active >= MaxActiveTokensPerUser)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["name"] = [$"You already have {MaxActiveTokensPerUser} active tokens; revoke one first."] },
                type: ProblemTypes.Validation, title: "Too many tokens");
        }

        var secret = Secrets.New(PersonalAccessTokenHandler.TokenPrefix);
        var token = new PersonalAccessToken
        {
            Id = Guid.CreateVersion7(now),
            UserId = userId,
            Name = name!,
            Prefix = secret[..10],
            SecretHash = PersonalAccessTokenHandler.Hash(secret),
            Scopes = string.Join(' ', scopes),
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
        };
        db.PersonalAccessTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/me/tokens/{token.Id}", new CreatedPersonalAccessTokenResponse(secret, ToResponse(token)));
    }

    private static async Task<Ok<List<PersonalAccessTokenResponse>>> ListAsync(
        ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = caller.UserId();
        var now = time.GetUtcNow();
        var tokens = await db.PersonalAccessTokens.AsNoTracking()
            .Where(t => t.UserId == userId && t.RevokedAt == null && t.ExpiresAt > now)
            .OrderBy(t => t.CreatedAt)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(tokens.Select(ToResponse).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        Guid id, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, IConnectionCutoff cutoff, CancellationToken cancellationToken)
    {
        var userId = caller.UserId();
        var revoked = await db.PersonalAccessTokens
            .Where(t => t.Id == id && t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, time.GetUtcNow()), cancellationToken);
        if (revoked == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound,
                title: "Not Found", detail: "You have no active token with this id.");
        }

        await cutoff.AccessTokenRevokedAsync(id);
        return TypedResults.NoContent();
    }

    private static PersonalAccessTokenResponse ToResponse(PersonalAccessToken t) =>
        new(t.Id, t.Name, t.Prefix, t.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), t.CreatedAt, t.ExpiresAt, t.LastUsedAt);
}
