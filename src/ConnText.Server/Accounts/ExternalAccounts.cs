using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using ConnText.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnText.Server.Accounts;

/// <summary>
/// What an external OpenID Connect provider says about the person signing in. <c>Provider</c> is the configured
/// provider name (<c>ConnText:Auth:ExternalProviders:{Name}</c>), stored as Identity's login provider;
/// <c>Subject</c> is the provider's stable, unique identifier of the person (<c>sub</c>).
/// </summary>
internal sealed record ExternalIdentity(
    string Provider, string ProviderDisplayName, string Subject, string? PreferredUsername, string? Name, string? Email);

internal enum ExternalAccountStatus
{
    /// <summary>An account was already linked to this provider subject.</summary>
    Linked,

    /// <summary>A new account was created and linked.</summary>
    Created,

    /// <summary>No linked account, and registration is closed.</summary>
    RegistrationClosed,

    /// <summary>The linked account is disabled.</summary>
    Disabled,
}

internal sealed record ExternalAccountOutcome(ExternalAccountStatus Status, User? User);

/// <summary>
/// Finds the account linked to an external identity (Identity's external logins: provider name + subject,
/// the <c>user_logins</c> table), or creates one when registration is open. Accounts are never matched by
/// username or e-mail: whoever controls a provider account could otherwise take over a local one.
/// </summary>
internal sealed class ExternalAccounts(
    UserManager<User> users,
    RegisterAccount register,
    ConnTextDbContext db,
    IOptions<AccountsOptions> options,
    TimeProvider time)
{
    private const string FallbackUsername = "user";

    public async Task<ExternalAccountOutcome> FindOrCreateAsync(ExternalIdentity identity, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var linked = await users.FindByLoginAsync(identity.Provider, identity.Subject);
            if (linked is not null)
            {
                return new ExternalAccountOutcome(linked.IsDisabled ? ExternalAccountStatus.Disabled : ExternalAccountStatus.Linked, linked);
            }

            if (options.Value.RegistrationMode != RegistrationMode.Open)
            {
                return new ExternalAccountOutcome(ExternalAccountStatus.RegistrationClosed, null);
            }

            var created = await TryCreateAsync(identity);
            if (created is not null)
            {
                await register.GrantAdminIfFirstAsync(created, cancellationToken);
                return new ExternalAccountOutcome(ExternalAccountStatus.Created, created);
            }

            // Lost a race: the same person's second callback linked first (found on the next pass), or
            // another registration took the username (a new one is chosen on the next pass).
            if (attempt >= 3)
            {
                throw new InvalidOperationException("Could not create an account for an external login after several attempts.");
            }
        }
    }

    private async Task<User?> TryCreateAsync(ExternalIdentity identity)
    {
        var username = await UniqueUsernameAsync(identity);
        var now = time.GetUtcNow();
        var user = new User
        {
            Id = Guid.CreateVersion7(now),
            UserName = username,
            DisplayName = DisplayName(identity) ?? username,
            // Kept for display and contact only, unconfirmed: it never identifies the account.
            Email = identity.Email is { Length: <= 254 } email && new EmailAddressAttribute().IsValid(email) ? email : null,
            CreatedAt = now,
        };

        // The link is added to the same unit of work as the user, so CreateAsync saves both in one transaction:
        // there is never an account without its link (it could not be signed in to, having no password).
        var login = db.UserLogins.Add(new IdentityUserLogin<Guid>
        {
            LoginProvider = identity.Provider,
            ProviderKey = identity.Subject,
            ProviderDisplayName = identity.ProviderDisplayName,
            UserId = user.Id,
        });

        IdentityResult result;
        try
        {
            result = await users.CreateAsync(user);
        }
        catch (DbUpdateException)
        {
            // The username's unique index or the login's primary key was taken by a concurrent request.
            login.State = EntityState.Detached;
            db.Entry(user).State = EntityState.Detached;
            return null;
        }

        if (!result.Succeeded)
        {
            login.State = EntityState.Detached;
            if (result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName)))
            {
                return null;
            }

            throw new InvalidOperationException(
                $"Identity refused an account derived from an external login: {string.Join(" ", result.Errors.Select(e => e.Code))}");
        }

        return user;
    }

    /// <summary>
    /// A valid username (AccountRules) from the provider's preferred_username (else the e-mail's local part,
    /// else the name), made unique with a numeric suffix: "alice", "alice2", "alice3", ...
    /// </summary>
    private async Task<string> UniqueUsernameAsync(ExternalIdentity identity)
    {
        // The e-mail's local part before the name: "jose.muller" reads better as a username than "Jose.Muller".
        var candidate = Sanitize(identity.PreferredUsername) ?? Sanitize(identity.Email?.Split('@')[0]) ?? Sanitize(identity.Name) ?? FallbackUsername;
        for (var n = 1; n <= 50; n++)
        {
            var name = WithSuffix(candidate, n == 1 ? "" : n.ToString(CultureInfo.InvariantCulture));
            if (await users.FindByNameAsync(name) is null)
            {
                return name;
            }
        }

        // A crowded name: stop probing one by one.
        return WithSuffix(candidate, System.Security.Cryptography.RandomNumberGenerator.GetInt32(1000, 1_000_000).ToString(CultureInfo.InvariantCulture));
    }

    internal static string? Sanitize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (char.IsAsciiLetterOrDigit(c) || (builder.Length > 0 && c is '.' or '_' or '-'))
            {
                builder.Append(c);
            }
            else if (char.IsWhiteSpace(c) && builder.Length > 0)
            {
                builder.Append('.');
            }
            else if (LatinFolding.TryGetValue(c, out var folded))
            {
                builder.Append(folded);
            }

            // Anything else (symbols, other scripts) is dropped.
        }

        var name = builder.ToString().TrimEnd('.', '_', '-');
        if (name.Length > AccountRules.UsernameMaxLength)
        {
            name = name[..AccountRules.UsernameMaxLength].TrimEnd('.', '_', '-');
        }

        return name.Length >= AccountRules.UsernameMinLength ? name : null;
    }

    // string.Normalize cannot strip accents here (InvariantGlobalization has no normalization data), so the
    // common Latin letters are folded by hand: "José Müller" becomes "Jose.Muller", not "Jos.Mller".
    private static readonly Dictionary<char, string> LatinFolding = BuildLatinFolding(
        ("ÀÁÂÃÄÅĀĂĄ", "A"), ("àáâãäåāăą", "a"), ("ÇĆČ", "C"), ("çćč", "c"), ("ĎĐ", "D"), ("ďđ", "d"),
        ("ÈÉÊËĒĖĘĚ", "E"), ("èéêëēėęě", "e"), ("Ğ", "G"), ("ğ", "g"), ("ÌÍÎÏĪĮİ", "I"), ("ìíîïīįı", "i"),
        ("Ł", "L"), ("ł", "l"), ("ÑŃŇ", "N"), ("ñńň", "n"), ("ÒÓÔÕÖØŌŐ", "O"), ("òóôõöøōő", "o"), ("Ř", "R"), ("ř", "r"),
        ("ŚŠŞ", "S"), ("śšş", "s"), ("Ť", "T"), ("ť", "t"), ("ÙÚÛÜŪŮŰŲ", "U"), ("ùúûüūůűų", "u"), ("Ý", "Y"), ("ýÿ", "y"),
        ("ŹŻŽ", "Z"), ("źżž", "z"), ("Æ", "AE"), ("æ", "ae"), ("Œ", "OE"), ("œ", "oe"), ("ß", "ss"), ("Þ", "Th"), ("þ", "th"));

    private static Dictionary<char, string> BuildLatinFolding(params (string Letters, string Ascii)[] groups)
    {
        var map = new Dictionary<char, string>();
        foreach (var (letters, ascii) in groups)
        {
            foreach (var letter in letters)
            {
                map[letter] = ascii;
            }
        }

        return map;
    }

    private static string WithSuffix(string name, string suffix)
    {
        var room = AccountRules.UsernameMaxLength - suffix.Length;
        return (name.Length > room ? name[..room] : name) + suffix;
    }

    private static string? DisplayName(ExternalIdentity identity)
    {
        var value = string.IsNullOrWhiteSpace(identity.Name) ? identity.PreferredUsername : identity.Name;
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var clean = new string(value.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return clean.Length <= User.DisplayNameMaxLength ? clean : clean[..User.DisplayNameMaxLength];
    }
}
