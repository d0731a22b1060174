using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Server.Tests.Hosting;

public sealed class SecurityHeadersTests
{
    [Theory]
    [InlineData("/api/v1/server", "default-src 'none'")]
    [InlineData("/no/such/route", "default-src 'none'")]
    [InlineData("/docs/", "script-src 'self'")]
    [InlineData("/account/login", "style-src 'unsafe-inline'")]
    public async Task EveryResponse_CarriesSecurityHeaders_WithAPolicyForItsKind(string path, string policyPart)
    {
        await using var server = await ServerInstance.StartAsync(Provider.Sqlite);
        using var response = await server.Client.GetAsync(path);

        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Contains(policyPart, Assert.Single(response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Server"), "the server does not announce its software");
    }
}
