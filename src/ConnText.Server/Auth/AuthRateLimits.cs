using System.Globalization;
using System.Threading.RateLimiting;
using ConnText.Contracts.Problems;
using ConnText.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace ConnText.Server.Auth;

/// <summary>Settings under <c>ConnText:RateLimits</c>.</summary>
internal sealed class RateLimitOptions
{
    public const string Section = "ConnText:RateLimits";

    /// <summary>Requests per minute from one IP address to login, registration and token endpoints.</summary>
    public int AuthPerIpPerMinute { get; set; } = 30;

    /// <summary>Sign-in attempts per minute for one account, from anywhere.</summary>
    public int LoginPerAccountPerMinute { get; set; } = 10;

    public void Validate()
    {
        if (AuthPerIpPerMinute is < 1 or > 100_000)
        {
            throw new StartupException($"{Section}:AuthPerIpPerMinute", "must be between 1 and 100000.");
        }

        if (LoginPerAccountPerMinute is < 1 or > 10_000)
        {
            throw new StartupException($"{Section}:LoginPerAccountPerMinute", "must be between 1 and 10000.");
        }
    }
}

/// <summary>
/// Abuse limits on the endpoints that take passwords or mint tokens: per IP (a sliding window, so a
/// burst cannot be timed around a window edge) and per account (<see cref="LoginThrottle"/>). Both
/// only delay; nothing an attacker does locks a user out for good.
/// </summary>
internal static class AuthRateLimits
{
    public const string AuthPolicy = "auth";

    public static IServiceCollection AddAuthRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.BindSection<RateLimitOptions>(RateLimitOptions.Section);
        options.Validate();
        // The container owns (and disposes) the throttle.
        services.AddSingleton(_ => new LoginThrottle(options.LoginPerAccountPerMinute));

        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(AuthPolicy, context => RateLimitPartition.GetSlidingWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new SlidingWindowRateLimiterOptions
                {
                    PermitLimit = options.AuthPerIpPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    SegmentsPerWindow = 6,
                    QueueLimit = 0,
                }));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(10);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Type = ProblemTypes.RateLimited,
                        Title = "Too Many Requests",
                        Detail = $"Too many attempts from this address. Retry after {seconds} seconds.",
                    },
                });
            };
        });
        return services;
    }
}

/// <summary>Per-account limit on sign-in attempts, whatever address they come from.</summary>
internal sealed class LoginThrottle(int perMinute) : IDisposable
{
    private readonly PartitionedRateLimiter<string> limiter = PartitionedRateLimiter.Create<string, string>(account =>
        RateLimitPartition.GetSlidingWindowLimiter(account, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = perMinute,
            Window = TimeSpan.FromMinutes(1),
            SegmentsPerWindow = 6,
            QueueLimit = 0,
        }));

    /// <summary>Takes one attempt for the account; null when allowed, else how long to wait.</summary>
    public TimeSpan? TryAttempt(string username)
    {
        using var lease = limiter.AttemptAcquire(username.ToUpperInvariant());
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(10);
    }

    public void Dispose() => limiter.Dispose();
}
