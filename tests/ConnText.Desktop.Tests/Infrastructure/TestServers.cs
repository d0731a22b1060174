using ConnText.Browser.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Desktop.Tests.Infrastructure;

internal static class TestServers
{
    /// <summary>The real server on SQLite, on a port Chromium agrees to connect to.</summary>
    public static async Task<ServerInstance> StartAsync(IDictionary<string, string?>? settings = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var server = await ServerInstance.StartAsync(Provider.Sqlite, settings);
            if (!Chromium.RefusesPort(server.Address.Port) || attempt == 5)
            {
                return server;
            }

            await server.DisposeAsync();
        }
    }
}
