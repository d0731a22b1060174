namespace ConnText.Server.Hosting;

internal static class SecurityHeaders
{
    // The API serves JSON only, so its responses may load nothing and be framed by nobody.
    private const string ApiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    // The API reference page runs its bundled script (with inline configuration) and calls this server.
    private const string DocsPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

    // The server's own HTML pages (login, registration, two-factor): inline styles only, no scripts.
    // No form-action: browsers apply it to the whole redirect chain after a submit, which ends at the
    // desktop app's loopback listener on a random port or at an external identity provider.
    private const string PagesPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers["Cross-Origin-Resource-Policy"] = "same-origin";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()";
                if (!headers.ContainsKey("Content-Security-Policy"))
                {
                    headers.ContentSecurityPolicy =
                        context.Request.Path.StartsWithSegments("/docs") ? DocsPolicy
                        : context.Request.Path.StartsWithSegments("/account") ? PagesPolicy
                        : ApiPolicy;
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
}
