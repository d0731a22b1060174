using ConnText.Server.AccessTokens;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenIddict.Client;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Auth;

/// <summary>
/// ASP.NET Core Identity (users, password hashing, the login cookie of the server's own pages) and
/// OpenIddict (the OAuth2 / OpenID Connect server the apps sign in through).
/// </summary>
internal static class AuthSetup
{
    /// <summary>Authorization policy for the REST API: a valid access token or personal access token.</summary>
    public const string ApiPolicy = "api";

    /// <summary>Picks the handler for an API request: personal access tokens (<c>ctp_…</c>) or OAuth access tokens.</summary>
    public const string ApiScheme = "ConnTextApi";

    public const string ApiScope = "api";

    public static IServiceCollection AddAuth(this IServiceCollection services, IConfiguration configuration, ConnTextOptions host)
    {
        var options = configuration.BindSection<AuthOptions>(AuthOptions.Section);
        options.Validate();
        services.Configure<AuthOptions>(configuration.GetSection(AuthOptions.Section));

        var authentication = services.AddAuthentication(o =>
        {
            o.DefaultScheme = IdentityConstants.ApplicationScheme;
            o.DefaultSignInScheme = IdentityConstants.ApplicationScheme;
        });
        authentication.AddIdentityCookies(cookies => cookies.ApplicationCookie?.Configure(cookie =>
            {
                cookie.LoginPath = "/account/login";
                cookie.LogoutPath = "/account/logout";
                cookie.Cookie.Name = "conntext.login";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.ExpireTimeSpan = TimeSpan.FromDays(14);
                cookie.SlidingExpiration = true;
            }));
        authentication.AddScheme<AuthenticationSchemeOptions, PersonalAccessTokenHandler>(PersonalAccessTokenHandler.SchemeName, null);
        authentication.AddPolicyScheme(ApiScheme, "ConnText API", o => o.ForwardDefaultSelector = context =>
                PersonalAccessTokenHandler.IsPersonalAccessToken(context.Request.Headers.Authorization)
                    ? PersonalAccessTokenHandler.SchemeName
                    : OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);

        services.AddAuthorizationBuilder().AddApiPolicies(ApiScheme);

        var openIddict = services.AddOpenIddict();
        openIddict
            .AddCore(core =>
            {
                core.UseEntityFrameworkCore().UseDbContext<Data.ConnTextDbContext>().ReplaceDefaultEntities<Guid>();
                core.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication<Guid>, LoopbackRedirectApplicationManager>();
            })
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetRevocationEndpointUris("connect/revoke")
                    .SetUserInfoEndpointUris("connect/userinfo")
                    .SetEndSessionEndpointUris("connect/endsession");

                if (!string.IsNullOrEmpty(options.Issuer))
                {
                    server.SetIssuer(new Uri(options.Issuer, UriKind.Absolute));
                }

                server.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow();
                server.RequireProofKeyForCodeExchange();
                server.Configure(o =>
                {
                    // S256 only: "plain" PKCE protects nothing against an attacker who can read the request.
                    o.CodeChallengeMethods.Clear();
                    o.CodeChallengeMethods.Add(CodeChallengeMethods.Sha256);
                });
                server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.OfflineAccess, ApiScope);

                server.SetAccessTokenLifetime(TimeSpan.FromMinutes(options.AccessTokenLifetimeMinutes));
                server.SetRefreshTokenLifetime(TimeSpan.FromDays(options.RefreshTokenLifetimeDays));
                server.SetAuthorizationCodeLifetime(TimeSpan.FromMinutes(2));
                // Rolling refresh tokens (OpenIddict's default) with a fixed end: a login lasts at most the lifetime.
                server.DisableSlidingRefreshTokenExpiration();
                server.SetRefreshTokenReuseLeeway(TimeSpan.FromSeconds(options.RefreshTokenReuseLeewaySeconds));

                // ES256 signatures and AES key wrap (ADR 0021). The first signing key signs; the RSA keys of earlier
                // versions stay registered after it so the tokens they protected (refresh tokens live for days)
                // still validate and decrypt. A symmetric encryption key is always preferred for new tokens.
                server.AddSigningKey(SigningKeys.LoadOrCreateEcdsa(host.ResolvedDataDirectory, "token-signing-es256"));
                server.AddEncryptionKey(SigningKeys.LoadOrCreateSymmetric(host.ResolvedDataDirectory, "token-encryption-a256"));
                if (SigningKeys.LoadExisting(host.ResolvedDataDirectory, "token-signing") is { } legacySigning)
                {
                    server.AddSigningKey(legacySigning);
                }

                if (SigningKeys.LoadExisting(host.ResolvedDataDirectory, "token-encryption") is { } legacyEncryption)
                {
                    server.AddEncryptionKey(legacyEncryption);
                }

                server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    // TLS is terminated by Kestrel (a configured certificate) or by the reverse proxy in front.
                    .DisableTransportSecurityRequirement();
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                // Tokens only in the Authorization header (or a form body): a token in a URL ends up in logs and
                // browser history. The realtime hub, whose browser WebSockets cannot set headers, moves its
                // access_token query parameter into the header itself, on its own path only (RealtimeSetup).
                validation.UseAspNetCore().DisableAccessTokenExtractionFromQueryString();
                // Every request checks that the token and its login (authorization) are still valid,
                // so revoking a session takes effect on the next request.
                validation.EnableAuthorizationEntryValidation();
                validation.EnableTokenEntryValidation();
            });

        // The client side ("Sign in with ..." other OpenID Connect providers) exists only when one is configured.
        if (options.ExternalProviders.Count > 0)
        {
            openIddict.AddClient(client => ConfigureExternalProviders(client, options, host));
        }

        services.AddScoped<AuthorizeEndpoint>();
        services.AddScoped<TokenEndpoint>();
        services.TryAddSingleton<IConnectionCutoff, NoConnectionCutoff>();
        return services;
    }

    private static void ConfigureExternalProviders(OpenIddictClientBuilder client, AuthOptions options, ConnTextOptions host)
    {
        // The code flow only (PKCE is added automatically when the provider advertises it).
        client.AllowAuthorizationCodeFlow();

        // Protect the state token that carries the login attempt from the challenge to the callback.
        client.AddSigningKey(SigningKeys.LoadOrCreate(host.ResolvedDataDirectory, "client-signing"));
        client.AddEncryptionKey(SigningKeys.LoadOrCreate(host.ResolvedDataDirectory, "client-encryption"));

        client.UseAspNetCore()
            .EnableRedirectionEndpointPassthrough()
            // A refused or failed answer reaches the callback too, which shows the login page with a readable error.
            .EnableErrorPassthrough()
            // As for the server: TLS is terminated by Kestrel or by the reverse proxy in front.
            .DisableTransportSecurityRequirement()
            .Configure(aspNetCore =>
            {
                // OpenIddict's default (SameSite=None, always Secure) is lost by browsers on plain HTTP and behind a
                // TLS-terminating proxy; see ResponseModes below for why Lax is enough.
                aspNetCore.CookieBuilder.SameSite = SameSiteMode.Lax;
                aspNetCore.CookieBuilder.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            });

        client.UseSystemNetHttp().SetProductInformation(typeof(AuthSetup).Assembly);

        foreach (var (name, provider) in options.ExternalProviders)
        {
            client.AddRegistration(new OpenIddictClientRegistration
            {
                ProviderName = name,
                ProviderDisplayName = string.IsNullOrWhiteSpace(provider.DisplayName) ? name : provider.DisplayName,
                Issuer = new Uri(provider.Authority!, UriKind.Absolute),
                ClientId = provider.ClientId,
                ClientSecret = string.IsNullOrEmpty(provider.ClientSecret) ? null : provider.ClientSecret,
                Scopes = { Scopes.OpenId, Scopes.Profile, Scopes.Email },
                // One callback per provider: a response can only be accepted at the URL of the provider it was sent to (mix-up attacks).
                RedirectUri = new Uri($"account/external/callback/{name}", UriKind.Relative),
                // The provider redirects back with a GET (query), never a cross-site form POST: the correlation cookie
                // can then be SameSite=Lax, which browsers accept without the Secure flag (plain HTTP, or TLS
                // terminated by a reverse proxy), while SameSite=None would require Secure.
                ResponseModes = { ResponseModes.Query },
            });
        }
    }
}
