using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Accounts;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Admin;

/// <summary>Administration: users (list, search, disable, enable, reset password) and invite codes.</summary>
internal static partial class AdminEndpoints
{
    public static IServiceCollection AddAdmin(this IServiceCollection services) => services;

    public static RouteGroupBuilder MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin").WithTags("Administration").RequireAuthorization(ApiScopes.AdminPolicy);

        admin.MapGet("/users", ListUsersAsync)
            .WithName("AdminListUsers")
            .WithSummary("List and search users")
            .WithDescription("Prefix search on username and display name; disabled accounts included.")
            .ProducesValidationProblem();

        admin.MapPost("/users/{id:guid}/disable", DisableAsync)
            .WithName("AdminDisableUser")
            .WithSummary("Disable a user")
            .WithDescription("Signs the user out everywhere and revokes their personal access tokens; they cannot sign in until enabled.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/users/{id:guid}/enable", EnableAsync)
            .WithName("AdminEnableUser")
            .WithSummary("Enable a disabled user")
            .ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/users/{id:guid}/reset-password", ResetPasswordAsync)
            .WithName("AdminResetPassword")
            .WithSummary("Set a new password for a user")
            .WithDescription("Ends all of the user's sessions.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        admin.MapPost("/invites", CreateInviteAsync)
            .WithName("AdminCreateInvite")
            .WithSummary("Create an invite code")
            .WithDescription("The code is returned once and stored only as a hash. Used when registration mode is Invite.")
            .ProducesValidationProblem();

        admin.MapGet("/invites", ListInvitesAsync)
            .WithName("AdminListInvites")
            .WithSummary("List invite codes");

        admin.MapDelete("/invites/{id:guid}", RevokeInviteAsync)
            .WithName("AdminRevokeInvite")
            .WithSummary("Revoke an invite code")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return admin;
    }

    public static byte[] HashInviteCode(string code) => SHA256.HashData(Encoding.UTF8.GetBytes(code.Trim()));

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1862",
        Justification = "EF Core translates ToUpper().StartsWith() to SQL; the StringComparison overload is not translatable.")]
    private static async Task<Results<Ok<PageResponse<AdminUserResponse>>, ValidationProblem>> ListUsersAsync(
        ConnTextDbContext db, string? q = null, int page = 1, int pageSize = 50, CancellationToken cancellationToken = default)
    {
        if (page < 1 || pageSize is < 1 or > 200 || q is { Length: > 64 })
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["query"] = ["page >= 1, pageSize 1 to 200, q at most 64 characters."] },
                type: ProblemTypes.Validation, title: "The search is not valid");
        }

        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(q))
        {
            var upper = q.Trim().ToUpperInvariant();
            query = query.Where(u => u.NormalizedUserName!.StartsWith(upper) || u.DisplayName.ToUpper().StartsWith(upper));
        }

        var users = await query.OrderBy(u => u.NormalizedUserName).Skip((page - 1) * pageSize).Take(pageSize + 1).ToListAsync(cancellationToken);
        var ids = users.Select(u => u.Id).ToList();
        var roles = await (from ur in db.UserRoles
                           join r in db.Roles on ur.RoleId equals r.Id
                           where ids.Contains(ur.UserId)
                           select new { ur.UserId, r.Name }).ToListAsync(cancellationToken);
        var items = users.Take(pageSize).Select(u => new AdminUserResponse(
            u.Id, u.UserName!, u.DisplayName, u.Email,
            roles.Where(r => r.UserId == u.Id).Select(r => r.Name!).ToList(), u.IsDisabled, u.CreatedAt)).ToList();
        return TypedResults.Ok(new PageResponse<AdminUserResponse>(items, page, pageSize, users.Count > pageSize));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DisableAsync(
        Guid id, ClaimsPrincipal caller, ConnTextDbContext db, SessionRevoker revoker, TimeProvider time, ILogger<AdminLog> logger,
        CancellationToken cancellationToken)
    {
        if (id == caller.UserId())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: ProblemTypes.Conflict,
                title: "Conflict", detail: "Administrators cannot disable their own account.");
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return UserNotFound();
        }

        user.IsDisabled = true;
        await db.SaveChangesAsync(cancellationToken);
        await EndEverythingAsync(db, revoker, time, id, cancellationToken);
        var adminId = caller.UserId();
        LogAdminAction(logger, adminId, "disabled", id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> EnableAsync(
        Guid id, ClaimsPrincipal caller, ConnTextDbContext db, ILogger<AdminLog> logger, CancellationToken cancellationToken)
    {
        var updated = await db.Users.Where(u => u.Id == id)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.IsDisabled, false), cancellationToken);
        if (updated == 0)
        {
            return UserNotFound();
        }

        var adminId = caller.UserId();
        LogAdminAction(logger, adminId, "enabled", id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ResetPasswordAsync(
        Guid id, ResetPasswordRequest request, ClaimsPrincipal caller, UserManager<User> users, ConnTextDbContext db,
        SessionRevoker revoker, PasswordHashingGate hashing, TimeProvider time, ILogger<AdminLog> logger, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(id.ToString());
        if (user is null)
        {
            return UserNotFound();
        }

        var rules = AccountRules.CheckPassword(request.NewPassword, user.UserName).ToArray();
        if (rules.Length > 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["newPassword"] = rules },
                type: ProblemTypes.Validation, title: "The password was not set");
        }

        var token = await users.GeneratePasswordResetTokenAsync(user);
        var result = await hashing.RunAsync(() => users.ResetPasswordAsync(user, token, request.NewPassword!), cancellationToken);
        if (!result.Succeeded)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["newPassword"] = [.. result.Errors.Select(e => e.Description)] },
                type: ProblemTypes.Validation, title: "The password was not set");
        }

        await EndEverythingAsync(db, revoker, time, id, cancellationToken);
        var adminId = caller.UserId();
        LogAdminAction(logger, adminId, "reset the password of", id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<CreatedInviteResponse>, ValidationProblem>> CreateInviteAsync(
        CreateInviteRequest request, ClaimsPrincipal caller, ConnTextDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var maxUses = request.MaxUses ?? 1;
        var hours = request.ExpiresInHours ?? 168;
        if (maxUses is < 1 or > 1000)
        {
            errors["maxUses"] = ["An invite creates 1 to 1000 accounts."];
        }

        if (hours is < 1 or > 8760)
        {
            errors["expiresInHours"] = ["An invite lives 1 to 8760 hours."];
        }

        if (request.Note is { } note && (note.Length > Invite.NoteMaxLength || note.Any(char.IsControl)))
        {
            errors["note"] = [$"A note has at most {Invite.NoteMaxLength} printable characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The invite is not valid");
        }

        var now = time.GetUtcNow();
        var code = Secrets.New("cti_");
        var invite = new Invite
        {
            Id = Guid.CreateVersion7(now),
            CodeHash = HashInviteCode(code),
            Note = request.Note?.Trim() ?? "",
            CreatedByUserId = caller.UserId(),
            MaxUses = maxUses,
            CreatedAt = now,
            ExpiresAt = now.AddHours(hours),
        };
        db.Invites.Add(invite);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/admin/invites/{invite.Id}", new CreatedInviteResponse(code, ToResponse(invite)));
    }

    private static async Task<Ok<List<InviteResponse>>> ListInvitesAsync(ConnTextDbContext db, CancellationToken cancellationToken)
    {
        var invites = await db.Invites.AsNoTracking().OrderByDescending(i => i.CreatedAt).Take(500).ToListAsync(cancellationToken);
        return TypedResults.Ok(invites.Select(ToResponse).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeInviteAsync(
        Guid id, ConnTextDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var revoked = await db.Invites.Where(i => i.Id == id && i.RevokedAt == null)
            .ExecuteUpdateAsync(i => i.SetProperty(x => x.RevokedAt, time.GetUtcNow()), cancellationToken);
        return revoked == 0
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "Not Found",
                detail: "No active invite has this id.")
            : TypedResults.NoContent();
    }

    private static async Task EndEverythingAsync(ConnTextDbContext db, SessionRevoker revoker, TimeProvider time, Guid userId, CancellationToken cancellationToken)
    {
        var sessions = await db.Sessions.Where(s => s.UserId == userId && s.RevokedAt == null).ToListAsync(cancellationToken);
        await revoker.RevokeAsync(sessions, cancellationToken);
        await db.PersonalAccessTokens.Where(t => t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, time.GetUtcNow()), cancellationToken);
        await revoker.UserEndedAsync(userId);
    }

    private static InviteResponse ToResponse(Invite i) => new(i.Id, i.Note, i.MaxUses, i.Uses, i.CreatedAt, i.ExpiresAt, i.RevokedAt is not null);

    private static ProblemHttpResult UserNotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "Not Found", detail: "No user has this id.");

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Admin {AdminId} {Action} user {UserId}")]
    private static partial void LogAdminAction(ILogger logger, Guid adminId, string action, Guid userId);
}

/// <summary>Log category for administrative actions (an audit trail operators can filter on).</summary>
internal sealed class AdminLog;
