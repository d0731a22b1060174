using System.Collections.Specialized;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Web;
using ConnText.Server.Tests.Infrastructure;

namespace ConnText.Browser.Tests.Infrastructure;

/// <summary>
/// The desktop app's side of the sign-in (RFC 8252 §7.3): a one-shot HTTP listener on a loopback port the OS picks,
/// waiting for the browser to bring the authorization response to <c>/oauth/callback</c>. It answers with a small
/// page and stops listening, as the app does. Plain sockets, so what arrives is exactly what the browser sent.
/// </summary>
public sealed class DesktopAppListener : IAsyncDisposable
{
    public const string ClosePageText = "You can close this window and return to ConnText.";

    private static readonly byte[] EndOfHeaders = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener listener;
    private readonly CancellationTokenSource stop = new();
    private readonly TaskCompletionSource<NameValueCollection> callback = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> requests = [];
    private readonly Task acceptLoop;

    private DesktopAppListener(TcpListener listener)
    {
        this.listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        acceptLoop = AcceptAsync();
    }

    public int Port { get; }

    public string RedirectUri => OAuthBrowser.LoopbackRedirect(Port);

    /// <summary>The query of the authorization response (code and state, or error), once the browser delivered it.</summary>
    public Task<NameValueCollection> Callback => callback.Task;

    /// <summary>The request lines of everything the browser sent here.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (requests)
            {
                return [.. requests];
            }
        }
    }

    public static DesktopAppListener Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            if (!Chromium.RefusesPort(((IPEndPoint)listener.LocalEndpoint).Port) || attempt == 10)
            {
                return new DesktopAppListener(listener);
            }

            listener.Stop();
        }
    }

    /// <summary>
    /// Waits for the authorization response. If it does not come in time, fails with what would explain why: what
    /// arrived here, where the browser is, and what it reported (a CSP violation blocking the redirect, for one).
    /// </summary>
    public async Task<NameValueCollection> WaitForCallbackAsync(BrowserTab tab)
    {
        try
        {
            return await Callback.WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"The browser did not bring the authorization response to {RedirectUri}. Requests here: [{string.Join(", ", Requests)}]. " +
                $"The browser is at {tab.Page.Url} and reported: [{string.Join("\n", tab.Problems)}]");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await acceptLoop;
        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (!callback.Task.IsCompleted)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                connections.Add(AnswerAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed before the browser came back (a test that expects nothing to arrive).
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Stopped while accepting: the response arrived, or the test is over.
        }
        finally
        {
            // One-shot: once the response has arrived, the port is closed, as the desktop app closes it.
            listener.Stop();
        }

        await Task.WhenAll(connections);
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var stream = client.GetStream();
            string head;
            try
            {
                head = await ReadHeadAsync(stream, timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                return; // A speculative connection Chromium opened and never used.
            }

            if (head.Length == 0)
            {
                return;
            }

            var requestLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)];
            lock (requests)
            {
                requests.Add(requestLine);
            }

            var parts = requestLine.Split(' ');
            var target = new Uri(new Uri($"http://127.0.0.1:{Port}"), parts.Length > 1 ? parts[1] : "/");
            var isCallback = parts[0] == "GET" && target.AbsolutePath == "/oauth/callback";
            var (status, body) = isCallback
                ? ("200 OK", $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ConnText</title></head><body><p>{ClosePageText}</p></body></html>")
                : ("404 Not Found", "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body></body></html>");
            var bytes = Encoding.UTF8.GetBytes(body);
            var response = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {bytes.Length}\r\n" +
                "Content-Security-Policy: default-src 'none'\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
            try
            {
                await stream.WriteAsync(response, timeout.Token);
                await stream.WriteAsync(bytes, timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // The browser went away; the callback below still counts, it arrived.
            }

            if (isCallback)
            {
                callback.TrySetResult(HttpUtility.ParseQueryString(target.Query));
                listener.Stop(); // Wakes the accept loop, which ends.
            }
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf(EndOfHeaders) >= 0)
            {
                return Encoding.ASCII.GetString(buffer, 0, length);
            }
        }

        return "";
    }
}
