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
    public async Task Disabled_ByDefault_NoMetricsEndpoint()
    {
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite);
        using var response = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
