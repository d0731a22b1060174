using System.Net;
using System.Net.Http.Headers;
using ConnText.Client.Auth;

namespace ConnText.Client.Api;

/// <summary>Adds the account's bearer token; on a 401, refreshes once and retries.</summary>
internal sealed class BearerHandler(TokenKeeper tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAccessTokenAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        // Requests the client sends carry JSON bodies it can send again (buffered StringContent or none).
        response.Dispose();
        token = await tokens.RefreshAsync(token, cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken);
    }
}
