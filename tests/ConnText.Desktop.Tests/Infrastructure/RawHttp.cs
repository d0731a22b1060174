using System.Net.Sockets;
using System.Text;

namespace ConnText.Desktop.Tests.Infrastructure;

/// <summary>
/// Requests written byte for byte over a socket: the tests must send exactly the Host, Origin, Cookie and Upgrade
/// headers an attacker would (HttpClient and ClientWebSocket normalise or refuse some of them).
/// </summary>
public static class RawHttp
{
    public static async Task<RawResponse> SendAsync(int port, string method, string target, IDictionary<string, string> headers)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        var request = new StringBuilder($"{method} {target} HTTP/1.1\r\n");
        foreach (var (name, value) in headers)
        {
            request.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (method == "POST")
        {
            request.Append("Content-Length: 0\r\n");
        }

        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));

        var buffer = new byte[64 * 1024];
        var length = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token);
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

        var head = Encoding.ASCII.GetString(buffer, 0, length);
        var status = int.Parse(head.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return new RawResponse(status, head);
    }

    /// <summary>Headers of a WebSocket handshake (RFC 6455).</summary>
    public static Dictionary<string, string> WebSocketHeaders(string host) => new()
    {
        ["Host"] = host,
        ["Upgrade"] = "websocket",
        ["Connection"] = "Upgrade",
        ["Sec-WebSocket-Key"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
        ["Sec-WebSocket-Version"] = "13",
    };
}

/// <summary>The status and head of a raw response.</summary>
public sealed record RawResponse(int Status, string Head)
{
    public string? Header(string name) =>
        Head.Split("\r\n").Skip(1).Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();
}
