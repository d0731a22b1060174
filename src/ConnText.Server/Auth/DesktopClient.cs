using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Auth;

/// <summary>
/// The registered OAuth client of the ConnText desktop app: public (no secret can be kept in an
/// installed app), native, code flow with PKCE, redirect to a loopback listener on any port.
/// Created or brought up to date at start-up.
/// </summary>
internal static class DesktopClient
{
    public const string ClientId = "conntext-desktop";
    public const string CallbackPath = "/oauth/callback";

    public static async Task EnsureAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = ClientId,
            DisplayName = "ConnText desktop",
            ClientType = ClientTypes.Public,
            ApplicationType = ApplicationTypes.Native,
            ConsentType = ConsentTypes.Implicit,
            RedirectUris = { new Uri($"http://127.0.0.1{CallbackPath}"), new Uri($"http://[::1]{CallbackPath}") },
            PostLogoutRedirectUris = { new Uri($"http://127.0.0.1{CallbackPath}"), new Uri($"http://[::1]{CallbackPath}") },
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.Endpoints.Revocation,
                Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Profile,
                Permissions.Scopes.Email,
                Permissions.Prefixes.Scope + Scopes.OfflineAccess,
                Permissions.Prefixes.Scope + AuthSetup.ApiScope,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };

        var existing = await manager.FindByClientIdAsync(ClientId, cancellationToken);
        if (existing is null)
        {
            await manager.CreateAsync(descriptor, cancellationToken);
        }
        else
        {
            await manager.UpdateAsync(existing, descriptor, cancellationToken);
        }
    }
}
