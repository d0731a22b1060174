using System.Net;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace ConnText.Server.Auth;

/// <summary>
/// RFC 8252 §7.3: for native apps, a loopback IP redirect URI matches a registered one on any port,
/// because the app listens on whatever ephemeral port the OS gives it. Scheme (http), host (the IP
/// literal) and path must still match exactly; every other redirect URI is compared exactly.
/// </summary>
internal sealed class LoopbackRedirectApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication<Guid>> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication<Guid>>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication<Guid>> store)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication<Guid>>(cache, logger, options, store)
{
    public override async ValueTask<bool> ValidateRedirectUriAsync(
        OpenIddictEntityFrameworkCoreApplication<Guid> application, string uri, CancellationToken cancellationToken = default)
    {
        if (await base.ValidateRedirectUriAsync(application, uri, cancellationToken))
        {
            return true;
        }

        return await HasApplicationTypeAsync(application, OpenIddictConstants.ApplicationTypes.Native, cancellationToken)
               && MatchesIgnoringLoopbackPort(await GetRedirectUrisAsync(application, cancellationToken), uri);
    }

    public override async ValueTask<bool> ValidatePostLogoutRedirectUriAsync(
        OpenIddictEntityFrameworkCoreApplication<Guid> application, string uri, CancellationToken cancellationToken = default)
    {
        if (await base.ValidatePostLogoutRedirectUriAsync(application, uri, cancellationToken))
        {
            return true;
        }

        return await HasApplicationTypeAsync(application, OpenIddictConstants.ApplicationTypes.Native, cancellationToken)
               && MatchesIgnoringLoopbackPort(await GetPostLogoutRedirectUrisAsync(application, cancellationToken), uri);
    }

    internal static bool MatchesIgnoringLoopbackPort(IEnumerable<string> registered, string candidate)
    {
        if (!IsLoopbackIpHttp(candidate, out var requested))
        {
            return false;
        }

        foreach (var value in registered)
        {
            if (IsLoopbackIpHttp(value, out var allowed)
                && string.Equals(allowed.Host, requested.Host, StringComparison.OrdinalIgnoreCase)
                && string.Equals(allowed.AbsolutePath, requested.AbsolutePath, StringComparison.Ordinal)
                && string.Equals(allowed.Query, requested.Query, StringComparison.Ordinal)
                && string.IsNullOrEmpty(requested.Fragment)
                && string.IsNullOrEmpty(requested.UserInfo))
            {
                return true;
            }
        }

        return false;
    }

    // Only IP literals: "localhost" can be re-pointed by a hosts file or DNS (RFC 8252 §8.3).
    private static bool IsLoopbackIpHttp(string value, out Uri uri) =>
        Uri.TryCreate(value, UriKind.Absolute, out uri!)
        && uri.Scheme == Uri.UriSchemeHttp
        && uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
        && IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address)
        && IPAddress.IsLoopback(address);
}
