using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace ConnText.Server.Auth;

/// <summary>
/// The confidential web clients configured under <c>ConnText:Auth:Clients</c> (typically another
/// ConnText server offering "Sign in with" this one): created or brought up to date at start-up,
/// and removed once they disappear from the configuration, so the settings stay the single source of truth.
/// </summary>
internal static class RegisteredClients
{
    // Marks the applications this class owns, so that removing one from the settings revokes it
    // without touching applications created any other way (the desktop client, later an admin UI).
    private const string SourceProperty = "conntext_source";
    private const string SourceValue = "configuration";

    public static async Task EnsureAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var clients = scope.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value.Clients;

        foreach (var (clientId, client) in clients)
        {
            var descriptor = Describe(clientId, client);
            var existing = await manager.FindByClientIdAsync(clientId, cancellationToken);
            if (existing is null)
            {
                await manager.CreateAsync(descriptor, cancellationToken);
            }
            else
            {
                await manager.UpdateAsync(existing, descriptor, cancellationToken);
            }
        }

        var stale = new List<object>();
        await foreach (var application in manager.ListAsync(count: null, offset: null, cancellationToken))
        {
            var properties = await manager.GetPropertiesAsync(application, cancellationToken);
            if (properties.TryGetValue(SourceProperty, out var source)
                && source.ValueKind == JsonValueKind.String && source.GetString() == SourceValue
                && !clients.ContainsKey(await manager.GetClientIdAsync(application, cancellationToken) ?? ""))
            {
                stale.Add(application);
            }
        }

        foreach (var application in stale)
        {
            // Deleting the application also deletes its authorizations and tokens: its logins end now.
            await manager.DeleteAsync(application, cancellationToken);
        }
    }

    private static OpenIddictApplicationDescriptor Describe(string clientId, RegisteredClientOptions client)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = client.ClientSecret,
            DisplayName = string.IsNullOrWhiteSpace(client.DisplayName) ? clientId : client.DisplayName,
            ClientType = ClientTypes.Confidential,
            ApplicationType = ApplicationTypes.Web,
            ConsentType = ConsentTypes.Implicit,
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Profile,
                Permissions.Scopes.Email,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
            Properties = { [SourceProperty] = JsonSerializer.SerializeToElement(SourceValue) },
        };
        foreach (var uri in client.RedirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        return descriptor;
    }
}
