using System.Security.Claims;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Accounts;
using ConnText.Server.Auth;
using ConnText.Server.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace ConnText.Server.Profile;

/// <summary>My profile and password, and the user directory.</summary>
internal static class ProfileEndpoints
{
    public const int MaxPageSize = 100;

    public static IServiceCollection AddProfile(this IServiceCollection services) => services;

    public static RouteGroupBuilder MapProfileEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var me = endpoints.MapGroup("/me").WithTags("Profile");

        me.MapGet("/", GetAsync).RequireAuthorization(ApiScopes.ReadPolicy)
            .WithName("GetMyProfile")
            .WithSummary("Get my profile");

        me.MapPatch("/", UpdateAsync).RequireAuthorization(ApiScopes.WritePolicy)
            .WithName("UpdateMyProfile")
            .WithSummary("Update my display name, status text or e-mail")
            .ProducesValidationProblem();

        me.MapPost("/password", ChangePasswordAsync).RequireAuthorization(ApiScopes.InteractivePolicy)
            .WithName("ChangeMyPassword")
            .WithSummary("Change my password")
            .WithDescription("Needs the current password. With endOtherSessions, every other device is signed out.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var users = endpoints.MapGroup("/users").WithTags("Users").RequireAuthorization(ApiScopes.ReadPolicy);
        users.MapGet("/", SearchAsync)
            .WithName("SearchUsers")
            .WithSummary("Search the user directory")
            .WithDescription("Prefix match on username and display name, ignoring case; disabled accounts are not listed.")
            .ProducesValidationProblem();

        Avatars.MapAvatarEndpoints(me, endpoints);
        return me;
    }

    private static async Task<Results<Ok<ProfileResponse>, ProblemHttpResult>> GetAsync(ClaimsPrincipal caller, UserManager<User> users)
    {
        var user = await users.FindByIdAsync(caller.UserId().ToString());
        return user is null ? Gone() : TypedResults.Ok(await ToResponseAsync(users, user));
    }

    private static async Task<Results<Ok<ProfileResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        UpdateProfileRequest request, ClaimsPrincipal caller, UserManager<User> users)
    {
        var user = await users.FindByIdAsync(caller.UserId().ToString());
        if (user is null)
        {
            return Gone();
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.DisplayName is { } displayName)
        {
            displayName = displayName.Trim();
            if (displayName.Length is 0 or > User.DisplayNameMaxLength || displayName.Any(char.IsControl))
            {
                errors["displayName"] = [$"A display name has 1 to {User.DisplayNameMaxLength} printable characters."];
            }
            else
            {
                user.DisplayName = displayName;
            }
        }

        if (request.StatusText is { } status)
        {
            status = status.Trim();
            if (status.Length > User.StatusTextMaxLength || status.Any(char.IsControl))
            {
                errors["statusText"] = [$"A status has at most {User.StatusTextMaxLength} printable characters."];
            }
            else
            {
                user.StatusText = status.Length == 0 ? null : status;
            }
        }

        if (request.Email is { } email)
        {
            email = email.Trim();
            if (email.Length > 0 && (email.Length > 254 || !System.Net.Mail.MailAddress.TryCreate(email, out _)))
            {
                errors["email"] = ["Not a valid e-mail address."];
            }
            else if (!string.Equals(email, user.Email, StringComparison.OrdinalIgnoreCase))
            {
                user.Email = email.Length == 0 ? null : email;
                user.NormalizedEmail = users.NormalizeEmail(user.Email);
                user.EmailConfirmed = false;
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The profile is not valid");
        }

        var result = await users.UpdateAsync(user);
        return result.Succeeded
            ? TypedResults.Ok(await ToResponseAsync(users, user))
            : TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["profile"] = [.. result.Errors.Select(e => e.Description)] },
                type: ProblemTypes.Validation, title: "The profile is not valid");
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePasswordAsync(
        ChangePasswordRequest request, ClaimsPrincipal caller, UserManager<User> users, ConnTextDbContext db, SessionRevoker revoker,
        PasswordHashingGate hashing, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(caller.UserId().ToString());
        if (user is null)
        {
            return Gone();
        }

        if (string.IsNullOrEmpty(request.CurrentPassword)
            || !await hashing.RunAsync(() => users.CheckPasswordAsync(user, request.CurrentPassword), cancellationToken))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["currentPassword"] = ["The current password is not correct."] },
                type: ProblemTypes.Validation, title: "The password was not changed");
        }

        var rules = AccountRules.CheckPassword(request.NewPassword, user.UserName).ToArray();
        if (rules.Length > 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["newPassword"] = rules },
                type: ProblemTypes.Validation, title: "The password was not changed");
        }

        var result = await hashing.RunAsync(() => users.ChangePasswordAsync(user, request.CurrentPassword, request.NewPassword!), cancellationToken);
        if (!result.Succeeded)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["newPassword"] = [.. result.Errors.Select(e => e.Description)] },
                type: ProblemTypes.Validation, title: "The password was not changed");
        }

        if (request.EndOtherSessions)
        {
            var current = caller.SessionId();
            var others = await db.Sessions.Where(s => s.UserId == user.Id && s.RevokedAt == null && s.Id != current).ToListAsync(cancellationToken);
            await revoker.RevokeAsync(others, cancellationToken);
        }

        return TypedResults.NoContent();
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1862",
        Justification = "EF Core translates ToUpper().StartsWith() to SQL; the StringComparison overload is not translatable.")]
    private static async Task<Results<Ok<PageResponse<UserSummary>>, ValidationProblem>> SearchAsync(
        ConnTextDbContext db, string? q = null, int page = 1, int pageSize = 20, CancellationToken cancellationToken = default)
    {
        if (page < 1 || pageSize is < 1 or > MaxPageSize || q is { Length: > 64 })
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["query"] = [$"page >= 1, pageSize 1 to {MaxPageSize}, q at most 64 characters."] },
                type: ProblemTypes.Validation, title: "The search is not valid");
        }

        var query = db.Users.AsNoTracking().Where(u => !u.IsDisabled);
        if (!string.IsNullOrWhiteSpace(q))
        {
            // Identity's normalized (upper-case) username makes the username match case-insensitive on both providers.
            var upper = q.Trim().ToUpperInvariant();
            query = query.Where(u => u.NormalizedUserName!.StartsWith(upper) || u.DisplayName.ToUpper().StartsWith(upper));
        }

        var rows = await query.OrderBy(u => u.NormalizedUserName)
            .Skip((page - 1) * pageSize).Take(pageSize + 1)
            .ToListAsync(cancellationToken);
        var items = rows.Take(pageSize).Select(u => new UserSummary(u.Id, u.UserName!, u.DisplayName, u.StatusText, Avatars.UrlFor(u))).ToList();
        return TypedResults.Ok(new PageResponse<UserSummary>(items, page, pageSize, rows.Count > pageSize));
    }

    private static async Task<ProfileResponse> ToResponseAsync(UserManager<User> users, User user) =>
        new(user.Id, user.UserName!, user.DisplayName, user.StatusText, user.Email, [.. await users.GetRolesAsync(user)], user.CreatedAt,
            Avatars.UrlFor(user));

    // A valid token whose user was deleted.
    private static ProblemHttpResult Gone() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "Not Found", detail: "The account no longer exists.");
}
