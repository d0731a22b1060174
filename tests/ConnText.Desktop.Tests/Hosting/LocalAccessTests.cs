using ConnText.Desktop.Tests.Infrastructure;

namespace ConnText.Desktop.Tests.Hosting;

/// <summary>One headless desktop for the class; every request is written byte for byte.</summary>
public sealed class DesktopFixture : IAsyncLifetime
{
    public DesktopProcess Desktop { get; private set; } = null!;

    public string Cookie { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Desktop = await DesktopProcess.StartAsync();
        var auth = await RawHttp.SendAsync(Desktop.Port, "GET", "/auth?s=" + Desktop.Secret, new Dictionary<string, string> { ["Host"] = Host });
        Cookie = auth.Header("Set-Cookie")!.Split(';')[0];
    }

    public string Host => $"127.0.0.1:{Desktop.Port}";

    public string Origin => "http://" + Host;

    public async Task DisposeAsync() => await Desktop.DisposeAsync();
}

/// <summary>
/// The local UI server admits only the window it opened: right Host, right Origin, and the cookie that only the
/// launch secret gives. Over plain HTTP and over the WebSocket of the Blazor circuit.
/// </summary>
public sealed class LocalAccessTests(DesktopFixture fixture) : IClassFixture<DesktopFixture>
{
    private int Port => fixture.Desktop.Port;

    [Fact]
    public async Task Auth_RightSecret_SetsAnHttpOnlySameSiteStrictCookieAndRedirectsToTheUi()
    {
        var response = await RawHttp.SendAsync(Port, "GET", "/auth?s=" + fixture.Desktop.Secret, new Dictionary<string, string> { ["Host"] = fixture.Host });

        Assert.Equal(302, response.Status);
        Assert.Equal("/", response.Header("Location"));
        var cookie = response.Header("Set-Cookie")!;
        Assert.StartsWith("conntext-ui=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        // The cookie is not the secret itself.
        Assert.DoesNotContain(fixture.Desktop.Secret, cookie, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ui_WithTheCookie_IsServed()
    {
        var response = await GetAsync("/", fixture.Host, fixture.Cookie);
        Assert.Equal(200, response.Status);

        var script = await GetAsync("/_framework/blazor.web.js", fixture.Host, fixture.Cookie);
        Assert.Equal(200, script.Status);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/_framework/blazor.web.js")]
    [InlineData("/_content/ConnText.UI/app.css")]
    [InlineData("/accounts/add")]
    public async Task Request_WithoutTheCookie_Is403(string path)
    {
        var response = await GetAsync(path, fixture.Host, cookie: null);
        Assert.Equal(403, response.Status);
        Assert.Null(response.Header("Set-Cookie"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("not-the-secret")]
    public async Task Auth_WrongOrMissingSecret_Is403WithoutACookie(string secret)
    {
        var response = await GetAsync(secret.Length == 0 ? "/auth" : "/auth?s=" + secret, fixture.Host, cookie: null);
        Assert.Equal(403, response.Status);
        Assert.Null(response.Header("Set-Cookie"));
    }

    [Fact]
    public async Task Request_WithAForgedCookie_Is403()
    {
        var response = await GetAsync("/", fixture.Host, "conntext-ui=" + fixture.Desktop.Secret);
        Assert.Equal(403, response.Status);
    }

    [Theory]
    [InlineData("localhost:{port}")]
    [InlineData("evil.example:{port}")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:1")]
    [InlineData("[::1]:{port}")]
    public async Task Request_ForeignHost_Is403EvenWithTheCookieAndSecret(string host)
    {
        host = host.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal(403, (await GetAsync("/", host, fixture.Cookie)).Status);
        Assert.Equal(403, (await GetAsync("/auth?s=" + fixture.Desktop.Secret, host, cookie: null)).Status);
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("http://localhost:{port}")]
    [InlineData("https://127.0.0.1:{port}")]
    [InlineData("null")]
    public async Task Request_ForeignOrigin_Is403EvenWithTheCookie(string origin)
    {
        origin = origin.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var response = await RawHttp.SendAsync(Port, "POST", "/_blazor/negotiate?negotiateVersion=1", new Dictionary<string, string>
        {
            ["Host"] = fixture.Host,
            ["Cookie"] = fixture.Cookie,
            ["Origin"] = origin,
        });
        Assert.Equal(403, response.Status);
    }

    [Fact]
    public async Task Negotiate_SameOriginWithTheCookie_IsAnswered()
    {
        var response = await RawHttp.SendAsync(Port, "POST", "/_blazor/negotiate?negotiateVersion=1", new Dictionary<string, string>
        {
            ["Host"] = fixture.Host,
            ["Cookie"] = fixture.Cookie,
            ["Origin"] = fixture.Origin,
        });
        Assert.Equal(200, response.Status);
    }

    [Fact]
    public async Task WebSocket_SameOriginWithTheCookie_IsAccepted()
    {
        var response = await WebSocketAsync(fixture.Host, fixture.Origin, fixture.Cookie);
        Assert.Equal(101, response.Status);
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("http://localhost:{port}")]
    [InlineData(null)]
    public async Task WebSocket_ForeignOrMissingOrigin_Is403(string? origin)
    {
        origin = origin?.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var response = await WebSocketAsync(fixture.Host, origin, fixture.Cookie);
        Assert.Equal(403, response.Status);
    }

    [Fact]
    public async Task WebSocket_WithoutTheCookie_Is403()
    {
        var response = await WebSocketAsync(fixture.Host, fixture.Origin, cookie: null);
        Assert.Equal(403, response.Status);
    }

    [Fact]
    public async Task WebSocket_ForeignHost_Is403()
    {
        var host = $"rebound.example:{Port}";
        var response = await WebSocketAsync(host, "http://" + host, fixture.Cookie);
        Assert.Equal(403, response.Status);
    }

    private Task<RawResponse> GetAsync(string target, string host, string? cookie)
    {
        var headers = new Dictionary<string, string> { ["Host"] = host };
        if (cookie is not null)
        {
            headers["Cookie"] = cookie;
        }

        return RawHttp.SendAsync(Port, "GET", target, headers);
    }

    private Task<RawResponse> WebSocketAsync(string host, string? origin, string? cookie)
    {
        var headers = RawHttp.WebSocketHeaders(host);
        if (origin is not null)
        {
            headers["Origin"] = origin;
        }

        if (cookie is not null)
        {
            headers["Cookie"] = cookie;
        }

        return RawHttp.SendAsync(Port, "GET", "/_blazor", headers);
    }
}
