using Microsoft.Extensions.Logging.Console;

namespace ConnText.Server.Hosting;

internal static class LoggingSetup
{
    /// <summary>
    /// Categories that write credentials at verbose levels, with the lowest level they may log at:
    /// OpenIddict logs token identifiers at Debug/Trace and request parameters such as the PKCE code_verifier at Information; ASP.NET Core's hosting diagnostics log
    /// every request URL, including the query-string <c>access_token</c> browsers use for WebSockets.
    /// </summary>
    private static readonly (string Category, LogLevel Minimum)[] SecretBearingCategories =
    [
        ("OpenIddict", LogLevel.Warning),
        ("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning),
        ("Microsoft.AspNetCore.HttpLogging", LogLevel.Warning),
    ];

    public static void AddConnTextLogging(this WebApplicationBuilder builder, ConnTextOptions options)
    {
        // Whatever the operator configures (even Trace everywhere), these never go below their floor.
        builder.Services.PostConfigure<LoggerFilterOptions>(CapSecretBearingCategories);

        // The default providers stay (console, plus EventSource for dotnet-trace); only the console format is chosen here.
        if (string.Equals(options.LogFormat, "Json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else if (string.Equals(options.LogFormat, "Text", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.ColorBehavior = LoggerColorBehavior.Default;
            });
        }
        else
        {
            throw new StartupException("ConnText:LogFormat", $"unknown value '{options.LogFormat}'. Use Text or Json.");
        }
    }

    private static void CapSecretBearingCategories(LoggerFilterOptions filters)
    {
        var providers = filters.Rules.Select(r => r.ProviderName).Distinct().ToList();
        for (var i = 0; i < filters.Rules.Count; i++)
        {
            var rule = filters.Rules[i];
            foreach (var (category, minimum) in SecretBearingCategories)
            {
                if (rule.CategoryName is { } name && name.StartsWith(category, StringComparison.Ordinal)
                    && (rule.LogLevel ?? LogLevel.Trace) < minimum)
                {
                    filters.Rules[i] = new LoggerFilterRule(rule.ProviderName, rule.CategoryName, minimum, rule.Filter);
                }
            }
        }

        foreach (var (category, minimum) in SecretBearingCategories)
        {
            // One rule per provider alias in use, so a provider-specific "Default: Trace" cannot win over the cap.
            foreach (var provider in providers.Append(null).Distinct())
            {
                filters.Rules.Add(new LoggerFilterRule(provider, category, minimum, null));
            }
        }
    }
}
