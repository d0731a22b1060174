using System.Text.Json;
using ConnText.Contracts.Problems;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace ConnText.Server.Errors;

/// <summary>
/// Turns exceptions into problem details. Bad requests (which the framework reports as
/// <see cref="BadHttpRequestException"/>, and PostgreSQL's refusal of U+0000 in text) say what was wrong; a full
/// sign-in queue is a 503 with <c>Retry-After</c>; anything else is a 500 that shows no internals and is logged with
/// the trace id the client receives.
/// </summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        if (exception is BadHttpRequestException badRequest)
        {
            problem = new ProblemDetails
            {
                Status = badRequest.StatusCode,
                Type = ProblemResponses.TypeFor(badRequest.StatusCode),
                Title = TitleFor(badRequest.StatusCode),
                Detail = DescribeBadRequest(badRequest),
            };
            LogBadRequest(logger, badRequest.StatusCode, httpContext.Request.Method, httpContext.Request.Path, problem.Detail);
        }
        else if (exception is Accounts.PasswordHashingBusyException busy)
        {
            // A login storm: hashing is at its concurrency limit with a full queue (ADR 0008). Come back later.
            httpContext.Response.Headers.RetryAfter = busy.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = ProblemTypes.ServiceUnavailable,
                Title = "Service Unavailable",
                Detail = $"Too many sign-ins and password changes are in progress. Retry after {busy.RetryAfterSeconds} seconds.",
            };
        }
        else if (FindInner<PostgresException>(exception) is { SqlState: PostgresErrorCodes.CharacterNotInRepertoire })
        {
            // PostgreSQL's text cannot hold U+0000, in a stored value or a query's parameter (a search, a sign-in name).
            // Fields that are stored refuse it in their validation; this answers any other input that reaches a query.
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Type = ProblemTypes.MalformedRequest,
                Title = "Bad Request",
                Detail = "The request contains the NUL character (U+0000), which text here cannot hold.",
            };
            LogBadRequest(logger, StatusCodes.Status400BadRequest, httpContext.Request.Method, httpContext.Request.Path, problem.Detail);
        }
        else if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
            return true;
        }
        else
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path, ProblemResponses.TraceId(httpContext));
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Type = ProblemTypes.Internal,
                Title = "Internal Server Error",
                Detail = "An unexpected error occurred. The operator can find it in the server log by its trace id.",
            };
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static string TitleFor(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "Payload Too Large",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported Media Type",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => "Request Header Fields Too Large",
        _ => "Bad Request",
    };

    private static string DescribeBadRequest(BadHttpRequestException exception)
    {
        // Note: JsonException messages say where the JSON broke ("Path: $.username | LineNumber: 0 | ...")
        // and never include server internals, so they are safe and useful to return.
        if (FindInner<JsonException>(exception) is { } json)
        {
            return $"The request body is not valid JSON for this endpoint: {json.Message}";
        }

        return exception.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => "The request body is larger than this endpoint accepts.",
            StatusCodes.Status415UnsupportedMediaType => "This endpoint does not take a body of this Content-Type (JSON bodies are application/json, uploads name their type; see the API reference).",
            // The framework's wording ("Implicit body inferred ... Did you mean to use a Service instead?")
            // speaks to the server's developer, not to the API client.
            _ when exception.Message.Contains("no body was provided", StringComparison.Ordinal) =>
                "This endpoint needs a JSON request body.",
            _ => exception.Message,
        };
    }

    private static T? FindInner<T>(Exception exception) where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Bad request {Status} on {Method} {Path}: {Detail}")]
    private static partial void LogBadRequest(ILogger logger, int status, string method, PathString path, string? detail);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path} (traceId {TraceId})")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path, string traceId);
}
