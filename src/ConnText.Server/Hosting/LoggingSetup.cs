using Microsoft.Extensions.Logging.Console;

namespace ConnText.Server.Hosting;

internal static class LoggingSetup
{
    public static void AddConnTextLogging(this WebApplicationBuilder builder, ConnTextOptions options)
    {
        builder.Logging.ClearProviders();
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
}
