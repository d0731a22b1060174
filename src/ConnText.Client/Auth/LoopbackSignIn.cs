using System.Collections.Specialized;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Web;

namespace ConnText.Client.Auth;

/// <summary>
/// Sign-in as RFC 8252 describes it for native apps: the system browser at the server's authorization endpoint
/// (code flow, PKCE S256, state), the redirect received on a one-shot listener at
/// <c>http://127.0.0.1:{ephemeral}/oauth/callback</c>, then the code redeemed at the token endpoint.
/// </summary>
public sealed class LoopbackSignIn
{
    /// <summary>The path of the redirect URI; the server accepts any port for it.</summary>
    public const string CallbackPath = "/oauth/callback";

    private const string ClosePage =
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ConnText</title></head>" +
        "<body><p>You can close this window and return to ConnText.</p></body></html>";

    private readonly ISystemBrowser browser;
    private readonly HttpClient http;
    private readonly TimeProvider time;

    /// <summary>Creates the sign-in over <paramref name="browser"/>.</summary>
    public LoopbackSignIn(ISystemBrowser browser, HttpClient http, TimeProvider time)
    {
        this.browser = browser;
        this.http = http;
        this.time = time;
    }

    /// <summary>How long the user has to finish in the browser.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Runs the whole flow against <paramref name="server"/> and returns the tokens.
    /// </summary>
    /// <param name="server">The server's base address.</param>
    /// <param name="deviceName">The name the server shows for this session.</param>
    /// <param name="cancellationToken">Cancels the wait for the browser.</param>
    public async Task<TokenSet> SignInAsync(Uri server, string deviceName, CancellationToken cancellationToken)
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Base64Url(RandomNumberGenerator.GetBytes(16));

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var redirectUri = $"http://127.0.0.1:{port}{CallbackPath}";
            var query = HttpUtility.ParseQueryString("");
            query["client_id"] = OAuthTokenClient.ClientId;
            query["response_type"] = "code";
            query["redirect_uri"] = redirectUri;
            query["scope"] = OAuthTokenClient.Scopes;
            query["state"] = state;
            query["code_challenge"] = challenge;
            query["code_challenge_method"] = "S256";
            query["device_name"] = deviceName;
            query["device_platform"] = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsWindows() ? "windows" : "macos";
            var authorize = new Uri(server, "/connect/authorize?" + query);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
#pragma warning disable CA2025 // awaited below, inside the scope of both the listener and the timeout
            var wait = ReceiveCallbackAsync(listener, timeout.Token);
#pragma warning restore CA2025
            await browser.OpenAsync(authorize, cancellationToken);
            var response = await wait;

            if (response["error"] is { } error)
            {
                throw new SignInRequiredException($"The server refused the sign-in: {error}.");
            }

            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(response["state"] ?? ""), Encoding.ASCII.GetBytes(state)))
            {
                throw new SignInRequiredException("The sign-in response does not belong to this sign-in (state mismatch).");
            }

            var code = response["code"] ?? throw new SignInRequiredException("The sign-in response has no code.");
            return await new OAuthTokenClient(http, server, time).RedeemAsync(code, redirectUri, verifier, cancellationToken);
        }
        finally
        {
            listener.Stop(); // One-shot: the port closes as soon as the response arrived (or the wait ended).
        }
    }

    private static async Task<NameValueCollection> ReceiveCallbackAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var client = await listener.AcceptTcpClientAsync(cancellationToken);
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream, cancellationToken);
            var line = head.Split("\r\n", 2)[0].Split(' ');
            if (line.Length < 2 || line[0] != "GET")
            {
                continue; // A speculative connection the browser never used, or noise.
            }

            var target = new Uri(new Uri("http://127.0.0.1/"), line[1]);
            var isCallback = target.AbsolutePath == CallbackPath;
            var body = Encoding.UTF8.GetBytes(isCallback ? ClosePage : "");
            var status = isCallback ? "200 OK" : "404 Not Found";
            var headers = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\n" +
                "Content-Security-Policy: default-src 'none'\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
            try
            {
                await stream.WriteAsync(headers, cancellationToken);
                await stream.WriteAsync(body, cancellationToken);
            }
            catch (IOException)
            {
                // The browser went away; what it brought still counts.
            }

            if (isCallback)
            {
                return HttpUtility.ParseQueryString(target.Query);
            }
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        using var slow = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        slow.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            while (length < buffer.Length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(length), slow.Token);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ""; // An idle speculative connection.
        }
        catch (IOException)
        {
            return "";
        }

        return Encoding.ASCII.GetString(buffer, 0, length);
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
