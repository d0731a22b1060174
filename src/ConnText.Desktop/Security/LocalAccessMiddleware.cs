using System.Globalization;

namespace ConnText.Desktop.Security;

/// <summary>
/// The only gate of the local UI server (architecture.md, security boundaries). In order:
/// <list type="number">
/// <item>the <c>Host</c> header must be exactly <c>127.0.0.1:{port}</c> (a DNS-rebinding page has its own name there);</item>
/// <item>an <c>Origin</c>, when sent, must be <c>http://127.0.0.1:{port}</c>, and a WebSocket handshake must send it
/// (browsers always do; another site's page driving the Blazor circuit sends its own);</item>
/// <item><c>/auth?s=secret</c> trades the per-launch secret for an HttpOnly SameSite=Strict cookie and redirects to the UI;</item>
/// <item>everything else needs that cookie (another local user, or a page that guessed the port, has none).</item>
/// </list>
/// Any failure is a bare 403: nothing tells a prober which check failed.
/// </summary>
internal sealed partial class LocalAccessMiddleware(RequestDelegate next, LaunchSecret secret, ILogger<LocalAccessMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var expectedHost = "127.0.0.1:" + context.Connection.LocalPort.ToString(CultureInfo.InvariantCulture);
        if (!string.Equals(request.Host.Value, expectedHost, StringComparison.Ordinal))
        {
            await RefuseAsync(context, "host");
            return;
        }

        var origin = request.Headers.Origin;
        if (origin.Count > 1
            || (origin.Count == 1 && !string.Equals(origin[0], "http://" + expectedHost, StringComparison.Ordinal))
            || (origin.Count == 0 && IsWebSocketHandshake(request)))
        {
            await RefuseAsync(context, "origin");
            return;
        }

        if (request.Path == LaunchSecret.AuthPath)
        {
            if (!HttpMethods.IsGet(request.Method) || !LaunchSecret.Matches(request.Query["s"], secret.Secret))
            {
                await RefuseAsync(context, "secret");
                return;
            }

            context.Response.Cookies.Append(LaunchSecret.CookieName, secret.CookieValue, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Path = "/",
                IsEssential = true,
            });
            context.Response.Headers.CacheControl = "no-store";
            // Off the URL at once: the secret does not stay in the address bar or get sent as a Referer.
            context.Response.Headers.Append("Referrer-Policy", "no-referrer");
            context.Response.Redirect("/");
            return;
        }

        if (!LaunchSecret.Matches(request.Cookies[LaunchSecret.CookieName], secret.CookieValue))
        {
            await RefuseAsync(context, "cookie");
            return;
        }

        await next(context);
    }

    // From the headers: the WebSocket feature that IsWebSocketRequest consults is added later in the pipeline.
    private static bool IsWebSocketHandshake(HttpRequest request) =>
        request.HttpContext.WebSockets.IsWebSocketRequest
        || request.Headers.Upgrade.Any(u => u?.Contains("websocket", StringComparison.OrdinalIgnoreCase) == true)
        || HttpMethods.IsConnect(request.Method);

    private Task RefuseAsync(HttpContext context, string check)
    {
        LogRefused(logger, check, context.Request.Path);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync("Forbidden", context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a request to the local UI ({Check} check) for {Path}")]
    private static partial void LogRefused(ILogger logger, string check, PathString path);
}
