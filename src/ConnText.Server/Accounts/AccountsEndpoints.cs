using ConnText.Contracts.Accounts;
using ConnText.Contracts.Problems;
using ConnText.Server.Data;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Accounts;

internal static class AccountsEndpoints
{
    private const int MinimumHashIterations = 210_000;

    public static IServiceCollection AddAccounts(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSection<AccountsOptions>(AccountsOptions.Section);
        if (!Enum.IsDefined(options.RegistrationMode))
        {
            throw new StartupException($"{AccountsOptions.Section}:RegistrationMode",
                $"unknown registration mode '{options.RegistrationMode}'. Use Open, Invite or Closed.");
        }

        if (options.PasswordHashIterations < MinimumHashIterations)
        {
            throw new StartupException($"{AccountsOptions.Section}:PasswordHashIterations",
                $"{options.PasswordHashIterations} is below the minimum of {MinimumHashIterations} (OWASP's figure for PBKDF2-HMAC-SHA512).");
        }

        if (options.PasswordHashConcurrency is < 0 or > 1024)
        {
            throw new StartupException($"{AccountsOptions.Section}:PasswordHashConcurrency",
                "must be between 0 (half the processor count) and 1024.");
        }

        if (!(options.PasswordHashBurstSeconds is >= 0 and <= 60))
        {
            throw new StartupException($"{AccountsOptions.Section}:PasswordHashBurstSeconds", "must be between 0 and 60.");
        }

        if (options.PasswordHashMaxWaitSeconds is < 1 or > 600)
        {
            throw new StartupException($"{AccountsOptions.Section}:PasswordHashMaxWaitSeconds", "must be between 1 and 600.");
        }

        if (!(options.PasswordHashCpuShare is >= 0.05 and <= 1))
        {
            throw new StartupException($"{AccountsOptions.Section}:PasswordHashCpuShare", "must be between 0.05 and 1.");
        }

        if (options.PasswordHashQueueLimit is < 0 or > 100_000)
        {
            throw new StartupException($"{AccountsOptions.Section}:PasswordHashQueueLimit", "must be between 0 and 100000.");
        }

        services.Configure<AccountsOptions>(configuration.GetSection(AccountsOptions.Section));
        services.Configure<PasswordHasherOptions>(o =>
        {
            o.CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3;
            o.IterationCount = options.PasswordHashIterations;
        });

        services.AddIdentityCore<User>(o =>
            {
                // AccountRules holds the whole password policy; Identity's composition rules are off.
                o.Password.RequiredLength = AccountRules.PasswordMinLength;
                o.Password.RequireDigit = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredUniqueChars = 1;
                o.User.RequireUniqueEmail = false;
                o.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
            })
            .AddRoles<Role>()
            .AddEntityFrameworkStores<ConnTextDbContext>()
            .AddPasswordValidator<PasswordRulesValidator>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.Configure<IdentityOptions>(o =>
        {
            // Temporary only: a burst of failures pauses the account for minutes, never locks it for good.
            o.Lockout.AllowedForNewUsers = true;
            o.Lockout.MaxFailedAccessAttempts = 10;
            o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
        });

        // Every hash goes through the gate; Identity's own hasher (registered by AddIdentityCore) is replaced by
        // the one that refuses to run outside it.
        services.TryAddSingleton<PasswordHashingGate>();
        services.TryAddSingleton<PasswordHashingThreads>();
        services.Replace(ServiceDescriptor.Scoped<IPasswordHasher<User>, GatedPasswordHasher>());

        services.TryAddScoped<RegisterAccount>();
        services.TryAddScoped<ExternalAccounts>();
        return services;
    }

    public static RouteGroupBuilder MapAccountsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/accounts").WithTags("Accounts");

        group.MapPost("/", (RegisterAccountRequest request, RegisterAccount register, CancellationToken cancellationToken) =>
                register.HandleAsync(request, cancellationToken))
            .RequireRateLimiting(Auth.AuthRateLimits.AuthPolicy)
            .WithName("RegisterAccount")
            .WithSummary("Create an account")
            .WithDescription("Registers a username and password. The first account on a server becomes its admin. " +
                             "Refused with registration-closed when the server's registration mode does not allow it.")
            .Accepts<RegisterAccountRequest>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return group;
    }
}

/// <summary>What registering produced: the new user, or why not.</summary>
internal sealed record RegistrationOutcome(User? User, IReadOnlyList<string> Roles, Dictionary<string, string[]>? Errors, bool UsernameTaken, bool Closed);

/// <summary>Registration: validates, creates the user, and makes the first user the admin.</summary>
internal sealed class RegisterAccount(
    UserManager<User> users,
    RoleManager<Role> roles,
    ConnTextDbContext db,
    IOptions<AccountsOptions> options,
    PasswordHashingGate hashing,
    TimeProvider time)
{
    public async Task<Results<Created<AccountResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        RegisterAccountRequest request, CancellationToken cancellationToken)
    {
        var outcome = await RegisterAsync(request, cancellationToken);
        if (outcome.Closed)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                type: ProblemTypes.RegistrationClosed,
                title: "Registration is closed",
                detail: "This server does not accept new accounts.");
        }

        if (outcome.UsernameTaken)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                type: ProblemTypes.Conflict,
                title: "Username taken",
                detail: UsernameTakenMessage);
        }

        if (outcome.Errors is { } errors)
        {
            return TypedResults.ValidationProblem(errors, type: ProblemTypes.Validation, title: "The account details are not valid");
        }

        var user = outcome.User!;
        return TypedResults.Created($"/api/v1/users/{user.Id}",
            new AccountResponse(user.Id, user.UserName!, user.DisplayName, user.Email, outcome.Roles, user.CreatedAt));
    }

    public const string UsernameTakenMessage = "An account with this username already exists (usernames ignore case).";

    public async Task<RegistrationOutcome> RegisterAsync(RegisterAccountRequest request, CancellationToken cancellationToken)
    {
        var mode = options.Value.RegistrationMode;
        if (mode == RegistrationMode.Closed)
        {
            return new RegistrationOutcome(null, [], null, UsernameTaken: false, Closed: true);
        }

        var errors = Validate(request);
        if (mode == RegistrationMode.Invite && string.IsNullOrWhiteSpace(request.InviteCode))
        {
            errors["inviteCode"] = ["This server registers new accounts by invitation: an invite code is required."];
        }

        if (errors.Count > 0)
        {
            return new RegistrationOutcome(null, [], errors, UsernameTaken: false, Closed: false);
        }

        // Turned away before the invite is claimed (and given back) when hashing is too busy to take it.
        hashing.ThrowIfBusy();
        Guid? inviteId = null;
        if (mode == RegistrationMode.Invite)
        {
            inviteId = await ClaimInviteAsync(request.InviteCode!, cancellationToken);
            if (inviteId is null)
            {
                return new RegistrationOutcome(null, [],
                    new Dictionary<string, string[]> { ["inviteCode"] = ["This invite code is not valid, has expired or has been used up."] },
                    UsernameTaken: false, Closed: false);
            }
        }

        RegistrationOutcome? outcome = null;
        try
        {
            outcome = await CreateAsync(request, cancellationToken);
        }
        finally
        {
            if (outcome?.User is null && inviteId is { } claimed)
            {
                // The account was not created (refused, or the server too busy to hash): give the use back, even
                // when the request was aborted.
                await db.Invites.Where(i => i.Id == claimed)
                    .ExecuteUpdateAsync(i => i.SetProperty(x => x.Uses, x => x.Uses - 1), CancellationToken.None);
            }
        }

        return outcome;
    }

    /// <summary>Takes one use of an invite in a single conditional UPDATE, so concurrent registrations never exceed its limit.</summary>
    private async Task<Guid?> ClaimInviteAsync(string code, CancellationToken cancellationToken)
    {
        var hash = Admin.AdminEndpoints.HashInviteCode(code);
        var now = time.GetUtcNow();
        var invite = await db.Invites.AsNoTracking().Where(i => i.CodeHash == hash).Select(i => (Guid?)i.Id).FirstOrDefaultAsync(cancellationToken);
        if (invite is null)
        {
            return null;
        }

        var claimed = await db.Invites
            .Where(i => i.Id == invite && i.RevokedAt == null && i.ExpiresAt > now && i.Uses < i.MaxUses)
            .ExecuteUpdateAsync(i => i.SetProperty(x => x.Uses, x => x.Uses + 1), cancellationToken);
        return claimed == 1 ? invite : null;
    }

    private async Task<RegistrationOutcome> CreateAsync(RegisterAccountRequest request, CancellationToken cancellationToken)
    {
        var user = new User
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            UserName = request.Username,
            DisplayName = string.IsNullOrWhiteSpace(request.DisplayName) ? request.Username! : request.DisplayName.Trim(),
            Email = string.IsNullOrWhiteSpace(request.Email) ? null : request.Email.Trim(),
            CreatedAt = time.GetUtcNow(),
        };

        IdentityResult result;
        try
        {
            result = await hashing.RunAsync(() => users.CreateAsync(user, request.Password!), cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two registrations of one name raced past Identity's check; the unique index decided.
            return new RegistrationOutcome(null, [], null, UsernameTaken: true, Closed: false);
        }

        if (!result.Succeeded)
        {
            if (result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName)))
            {
                return new RegistrationOutcome(null, [], null, UsernameTaken: true, Closed: false);
            }

            var identityErrors = result.Errors
                .GroupBy(e => e.Code.StartsWith("Password", StringComparison.Ordinal) ? "password"
                    : e.Code.Contains("Email", StringComparison.Ordinal) ? "email" : "username")
                .ToDictionary(g => g.Key, g => g.Select(e => e.Description).ToArray());
            return new RegistrationOutcome(null, [], identityErrors, UsernameTaken: false, Closed: false);
        }

        await GrantAdminIfFirstAsync(user, cancellationToken);
        return new RegistrationOutcome(user, [.. await users.GetRolesAsync(user)], null, UsernameTaken: false, Closed: false);
    }

    internal async Task GrantAdminIfFirstAsync(User user, CancellationToken cancellationToken)
    {
        if (!await roles.RoleExistsAsync(Role.Admin))
        {
            try
            {
                await roles.CreateAsync(new Role { Id = Guid.CreateVersion7(time.GetUtcNow()), Name = Role.Admin });
            }
            catch (DbUpdateException)
            {
                // Created by a concurrent first registration.
            }
        }

        // The earliest account is the admin; ordering by creation keeps that true when two register at once.
        var firstUserId = await db.Users.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id).Select(u => u.Id).FirstAsync(cancellationToken);
        if (firstUserId == user.Id)
        {
            await users.AddToRoleAsync(user, Role.Admin);
        }
    }

    private static Dictionary<string, string[]> Validate(RegisterAccountRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Add(errors, "username", AccountRules.CheckUsername(request.Username));
        Add(errors, "password", AccountRules.CheckPassword(request.Password, request.Username));
        if (request.DisplayName is { Length: > User.DisplayNameMaxLength })
        {
            errors["displayName"] = [$"A display name has at most {User.DisplayNameMaxLength} characters."];
        }

        if (request.DisplayName is not null && request.DisplayName.Any(char.IsControl))
        {
            errors["displayName"] = ["A display name cannot contain control characters."];
        }

        if (request.Email is { Length: > 0 } email && (email.Length > 254 || !System.Net.Mail.MailAddress.TryCreate(email.Trim(), out _)))
        {
            errors["email"] = ["Not a valid e-mail address."];
        }

        return errors;
    }

    private static void Add(Dictionary<string, string[]> errors, string field, IEnumerable<string> messages)
    {
        var list = messages.ToArray();
        if (list.Length > 0)
        {
            errors[field] = list;
        }
    }
}
