using System.Net;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Telemetry;

public sealed class PrometheusTests
{
    [Fact]
    public async Task Enabled_ServesRequestMetricsInPrometheusFormat()
    {
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite,
            new Dictionary<string, string?> { ["ConnText:Telemetry:PrometheusEnabled"] = "true" });
        using (await server.Client.GetAsync("/health/live"))
        {
        }

        string text = "";
        for (var attempt = 0; attempt < 50 && !text.Contains("http_server_request_duration", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100);
            text = await server.Client.GetStringAsync("/metrics");
        }

        Assert.Contains("http_server_request_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("http_route=\"/health/live\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enabled_ServesTheRuntimesGarbageCollectionTotals()
    {
        // What the load generator reads per benchmark step (bench/run-hub.sh --gc-metrics), as an operator's scraper would.
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite,
            new Dictionary<string, string?> { ["ConnText:Telemetry:PrometheusEnabled"] = "true" });
        var text = await server.Client.GetStringAsync("/metrics");

        Assert.Matches(@"(?m)^dotnet_gc_collections_total\{[^}]*gc_heap_generation=""gen0""[^}]*\} \d", text);
        Assert.Matches(@"(?m)^dotnet_gc_pause_time_seconds_total(\{[^}]*\})? [0-9.eE+-]+", text);
        Assert.Matches(@"(?m)^dotnet_gc_heap_total_allocated_bytes_total(\{[^}]*\})? [1-9]", text);
    }

    [Fact]
    public async Task Disabled_ByDefault_NoMetricsEndpoint()
    {
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite);
        using var response = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
