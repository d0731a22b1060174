using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Files;

// Upload (tus, one streaming PATCH) and download of one file against a running server, sampling the server's RSS.
// Driven by bench/files/run.sh, which starts the server and measures raw disk speed with dd.
// Usage: ConnText.FilesBench <server-url> <server-pid> <file>
if (args.Length != 3)
{
    await Console.Error.WriteLineAsync("usage: ConnText.FilesBench <server-url> <server-pid> <file>");
    return 2;
}

var server = new Uri(args[0]);
var pid = int.Parse(args[1], CultureInfo.InvariantCulture);
var path = args[2];
var size = new FileInfo(path).Length;

var token = await Auth.SignInAsync(server, "bench", "bench password 123456");
using var api = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromHours(1) };
api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"file: {size / 1024.0 / 1024:F0} MiB"));
var expected = await HashFileAsync(path);

// Warm-up: the first 64 MiB as an upload of its own (other content, so it is stored separately), not measured, then
// 3 s for the server's background work to settle. A server that has just started spends its first seconds compiling
// its hot paths again at full optimization (tiered JIT): on 2026-11-27 its JIT thread took about a third of a core
// during a cold 2 GiB upload. A server in use has done that long before. The pause also lets the kernel write the
// warm-up's pages back, so the measured upload starts from the same disk state as dd did.
var warmupBytes = Math.Min(size / 4, 64L << 20);
{
    var warmupWatch = Stopwatch.StartNew();
    await using var warmupSource = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
    using var warmup = await UploadAsync(api, new LimitedStream(warmupSource, warmupBytes), warmupBytes, "warmup.bin");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"warm-up upload: {warmupBytes / 1024.0 / 1024:F0} MiB at {warmupBytes / warmupWatch.Elapsed.TotalSeconds / 1e6:F0} MB/s (not measured)"));
    await Task.Delay(TimeSpan.FromSeconds(3));
}

var baseline = Rss.Read(pid);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"server RSS before upload: {baseline / 1024.0 / 1024:F1} MiB"));

// Upload: tus creation, then the whole file in one PATCH streamed from disk (the hardest case for server memory).
await using var sampler = new Rss(pid);
var watch = Stopwatch.StartNew();
await using (var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
{
    using var patched = await UploadAsync(api, source, size, "bench.bin");
    var fileId = patched.Headers.GetValues(TusHeaders.FileId).Single();
    var uploadSeconds = watch.Elapsed.TotalSeconds;
    var uploadPeak = sampler.Peak;
    var metadata = (await api.GetFromJsonAsync<FileResponse>($"/api/v1/files/{fileId}/metadata"))!;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"upload:   {size / uploadSeconds / 1e6:F0} MB/s ({uploadSeconds:F1} s), sha256 {(metadata.Sha256 == expected ? "matches" : "DIFFERS")}, server RSS peak {uploadPeak / 1024.0 / 1024:F1} MiB (+{(uploadPeak - baseline) / 1024.0 / 1024:F1} MiB)"));

    // Download: streamed, hashed on the fly, nothing kept.
    sampler.ResetPeak();
    watch.Restart();
    using var response = await api.GetAsync(new Uri($"/api/v1/files/{fileId}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    await using var body = await response.Content.ReadAsStreamAsync();
    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    var buffer = new byte[1 << 20];
    long received = 0;
    int read;
    while ((read = await body.ReadAsync(buffer)) > 0)
    {
        hash.AppendData(buffer, 0, read);
        received += read;
    }

    var downloadSeconds = watch.Elapsed.TotalSeconds;
    var downloaded = Convert.ToHexStringLower(hash.GetHashAndReset());
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"download: {received / downloadSeconds / 1e6:F0} MB/s ({downloadSeconds:F1} s), sha256 {(downloaded == expected && received == size ? "matches" : "DIFFERS")}, server RSS peak {sampler.Peak / 1024.0 / 1024:F1} MiB (+{(sampler.Peak - baseline) / 1024.0 / 1024:F1} MiB)"));
}

return 0;

// tus creation, then the whole body in one PATCH; returns the PATCH's response (it names the stored file).
static async Task<HttpResponseMessage> UploadAsync(HttpClient api, Stream body, long length, string name)
{
    using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/uploads");
    create.Headers.Add("Tus-Resumable", "1.0.0");
    create.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
    create.Headers.Add("Upload-Metadata", "filename " + Convert.ToBase64String(Encoding.UTF8.GetBytes(name)));
    using var created = await api.SendAsync(create);
    created.EnsureSuccessStatusCode();
    using var patch = new HttpRequestMessage(HttpMethod.Patch, created.Headers.Location);
    patch.Headers.Add("Tus-Resumable", "1.0.0");
    patch.Headers.Add("Upload-Offset", "0");
    patch.Content = new StreamContent(body, 1 << 20);
    patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
    patch.Content.Headers.ContentLength = length;
    var patched = await api.SendAsync(patch);
    if (patched.StatusCode != HttpStatusCode.NoContent)
    {
        var detail = await patched.Content.ReadAsStringAsync();
        patched.Dispose();
        throw new InvalidOperationException($"PATCH: {(int)patched.StatusCode} {detail}");
    }

    return patched;
}

static async Task<string> HashFileAsync(string path)
{
    await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
    return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
}

/// <summary>Samples VmRSS of a process every 50 ms and keeps the peak.</summary>
internal sealed class Rss : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private long peak;

    public Rss(int pid)
    {
        loop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var now = Read(pid);
                long seen;
                while (now > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                {
                }

                try
                {
                    await Task.Delay(50, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    public long Peak => Interlocked.Read(ref peak);

    public void ResetPeak() => Interlocked.Exchange(ref peak, 0);

    public static long Read(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }
}

/// <summary>Registers the user and signs in as the desktop app does: authorization code + PKCE through the login page.</summary>
internal static partial class Auth
{
    public static async Task<string> SignInAsync(Uri server, string username, string password)
    {
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = server };
        using (var registered = await browser.PostAsJsonAsync("/api/v1/accounts", new RegisterAccountRequest(username, password)))
        {
            registered.EnsureSuccessStatusCode();
        }

        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var redirect = "http://127.0.0.1:45678/oauth/callback";
        var query = HttpUtility.ParseQueryString("");
        query["client_id"] = "conntext-desktop";
        query["response_type"] = "code";
        query["redirect_uri"] = redirect;
        query["scope"] = "openid profile offline_access api";
        query["state"] = "s";
        query["code_challenge"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        query["code_challenge_method"] = "S256";

        var next = new Uri(server, "/connect/authorize?" + query);
        HttpResponseMessage page;
        while (true)
        {
            page = await browser.GetAsync(next);
            if (page.StatusCode != HttpStatusCode.Redirect && page.StatusCode != HttpStatusCode.Found)
            {
                break;
            }

            next = new Uri(next, page.Headers.Location!);
            page.Dispose();
        }

        var html = await page.Content.ReadAsStringAsync();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Hidden(html, "__RequestVerificationToken"),
            ["ReturnUrl"] = Hidden(html, "ReturnUrl"),
            ["Username"] = username,
            ["Password"] = password,
        });
        using var submitted = await browser.PostAsync(new Uri(server, "/account/login"), form);
        next = new Uri(server, submitted.Headers.Location!);
        string? code = null;
        for (var hop = 0; hop < 10 && code is null; hop++)
        {
            using var response = await browser.GetAsync(next);
            var location = new Uri(next, response.Headers.Location!);
            if (location.AbsoluteUri.StartsWith(redirect, StringComparison.Ordinal))
            {
                code = HttpUtility.ParseQueryString(location.Query)["code"];
            }

            next = location;
        }

        using var tokenRequest = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = "conntext-desktop",
            ["code"] = code ?? throw new InvalidOperationException("no authorization code"),
            ["redirect_uri"] = redirect,
            ["code_verifier"] = verifier,
        });
        using var tokens = await browser.PostAsync(new Uri("/connect/token", UriKind.Relative), tokenRequest);
        tokens.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await tokens.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    private static string Hidden(string html, string name)
    {
        var match = Regex.Match(html, $"<input[^>]*name=\"{Regex.Escape(name)}\"[^>]*value=\"([^\"]*)\"");
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value) : "";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>The first <c>length</c> bytes of a stream, read forward only.</summary>
internal sealed class LimitedStream(Stream inner, long length) : Stream
{
    private long read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = inner.Read(buffer[..(int)Math.Min(buffer.Length, length - read)]);
        read += count;
        return count;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var count = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - read)], cancellationToken);
        read += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
