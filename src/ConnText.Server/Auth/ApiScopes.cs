using System.Security.Claims;
using ConnText.Server.Accounts;
using Microsoft.AspNetCore.Authorization;
using OpenIddict.Abstractions;

namespace ConnText.Server.Auth;

/// <summary>
/// What a token may do. OAuth tokens of the apps carry the <c>api</c> scope (everything the user may do);
/// personal access tokens carry a subset of <c>read</c>, <c>write</c> and <c>admin</c>.
/// </summary>
internal static class ApiScopes
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Admin = "admin";

    public static readonly IReadOnlySet<string> PersonalTokenScopes = new HashSet<string>(StringComparer.Ordinal) { Read, Write, Admin };

    /// <summary>Policies: <c>api:read</c>, <c>api:write</c>, <c>api:admin</c> (admin also needs the admin role).</summary>
    public const string ReadPolicy = "api:read";
    public const string WritePolicy = "api:write";
    public const string AdminPolicy = "api:admin";

    /// <summary>Only an app's interactive login (not a personal access token) may manage credentials.</summary>
    public const string InteractivePolicy = "api:interactive";

    public static bool Grants(ClaimsPrincipal principal, string scope) =>
        principal.HasScope(AuthSetup.ApiScope) || principal.HasScope(scope);

    public static AuthorizationBuilder AddApiPolicies(this AuthorizationBuilder authorization, string scheme) =>
        authorization
            .AddPolicy(AuthSetup.ApiPolicy, p => p.AddAuthenticationSchemes(scheme).RequireAuthenticatedUser())
            .AddPolicy(ReadPolicy, p => p.AddAuthenticationSchemes(scheme).RequireAuthenticatedUser()
                .RequireAssertion(c => Grants(c.User, Read) || Grants(c.User, Write)))
            .AddPolicy(WritePolicy, p => p.AddAuthenticationSchemes(scheme).RequireAuthenticatedUser()
                .RequireAssertion(c => Grants(c.User, Write)))
            .AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(scheme).RequireAuthenticatedUser()
                .RequireRole(Role.Admin)
                .RequireAssertion(c => Grants(c.User, Admin)))
            .AddPolicy(InteractivePolicy, p => p.AddAuthenticationSchemes(scheme).RequireAuthenticatedUser()
                .RequireAssertion(c => c.User.HasClaim(x => x.Type == ConnTextClaims.SessionId)));
}
