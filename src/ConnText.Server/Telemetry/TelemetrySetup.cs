using OpenTelemetry.Metrics;

namespace ConnText.Server.Telemetry;

/// <summary>Settings under <c>ConnText:Telemetry</c>.</summary>
internal sealed class TelemetryOptions
{
    public const string Section = "ConnText:Telemetry";

    /// <summary>Serve OpenTelemetry metrics in Prometheus text format at <see cref="PrometheusPath"/>.</summary>
    public bool PrometheusEnabled { get; set; }

    public string PrometheusPath { get; set; } = "/metrics";
}

internal static class TelemetrySetup
{
    public const string MeterName = "ConnText.Server";

    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var options = Hosting.ConfigurationExtensions.BindSection<TelemetryOptions>(configuration, TelemetryOptions.Section);
        services.Configure<TelemetryOptions>(configuration.GetSection(TelemetryOptions.Section));
        if (options.PrometheusEnabled)
        {
            services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        }

        return services;
    }

    public static void MapTelemetry(this IEndpointRouteBuilder endpoints)
    {
        var options = Hosting.ConfigurationExtensions.BindSection<TelemetryOptions>(
            endpoints.ServiceProvider.GetRequiredService<IConfiguration>(), TelemetryOptions.Section);
        if (options.PrometheusEnabled)
        {
            endpoints.MapPrometheusScrapingEndpoint(options.PrometheusPath);
        }
    }
}
