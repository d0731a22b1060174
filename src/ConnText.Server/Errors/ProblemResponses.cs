using System.Diagnostics;
using ConnText.Contracts.Problems;

namespace ConnText.Server.Errors;

/// <summary>
/// Makes every error an RFC 9457 problem-details response with a stable <c>type</c>
/// (<see cref="ProblemTypes"/>): unknown routes, wrong methods, unreadable bodies, oversized
/// bodies, validation failures, and unexpected exceptions (500, without internals).
/// </summary>
internal static class ProblemResponses
{
    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Customize);
        services.AddExceptionHandler<ProblemExceptionHandler>();

        // Binding failures (malformed JSON, wrong media type, missing body, unparsable route values)
        // throw BadHttpRequestException so the exception handler can say what was wrong, instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o =>
        {
            o.SerializerOptions.MaxDepth = 32;
            o.SerializerOptions.AllowTrailingCommas = false;
        });
        return services;
    }

    public static IApplicationBuilder UseProblemResponses(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        // Empty error responses (404 from routing, 405, 401/403 from authorization) get a problem body.
        app.UseStatusCodePages();
        return app;
    }

    private static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        problem.Status = status;

        // Replace the framework's RFC section links with our stable types; keep types set on purpose.
        if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
        {
            problem.Type = problem is HttpValidationProblemDetails ? ProblemTypes.Validation : TypeFor(status);
        }

        if (status == StatusCodes.Status405MethodNotAllowed && problem.Detail is null)
        {
            var allow = context.HttpContext.Response.Headers.Allow.ToString();
            problem.Detail = allow.Length > 0
                ? $"This resource does not support {context.HttpContext.Request.Method}. Allowed: {allow}."
                : $"This resource does not support {context.HttpContext.Request.Method}.";
        }

        problem.Detail ??= status switch
        {
            StatusCodes.Status404NotFound => "No resource exists at this path.",
            StatusCodes.Status413PayloadTooLarge => "The request body is larger than this endpoint accepts.",
            StatusCodes.Status415UnsupportedMediaType => "This endpoint does not take a body of this Content-Type (JSON bodies are application/json, uploads name their type; see the API reference).",
            _ => null,
        };

        problem.Instance ??= context.HttpContext.Request.Path;
        problem.Extensions["traceId"] = TraceId(context.HttpContext);
    }

    /// <summary>The id a client quotes and the operator finds in the log line of the same request.</summary>
    public static string TraceId(HttpContext context) => Activity.Current?.Id ?? context.TraceIdentifier;

    internal static string TypeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ProblemTypes.MalformedRequest,
        StatusCodes.Status401Unauthorized => ProblemTypes.Unauthorized,
        StatusCodes.Status403Forbidden => ProblemTypes.Forbidden,
        StatusCodes.Status404NotFound => ProblemTypes.NotFound,
        StatusCodes.Status405MethodNotAllowed => ProblemTypes.MethodNotAllowed,
        StatusCodes.Status409Conflict => ProblemTypes.Conflict,
        StatusCodes.Status413PayloadTooLarge => ProblemTypes.PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => ProblemTypes.UnsupportedMediaType,
        StatusCodes.Status416RangeNotSatisfiable => ProblemTypes.RangeNotSatisfiable,
        StatusCodes.Status429TooManyRequests => ProblemTypes.RateLimited,
        StatusCodes.Status503ServiceUnavailable => ProblemTypes.ServiceUnavailable,
        >= 500 => ProblemTypes.Internal,
        _ => ProblemTypes.Http,
    };
}
