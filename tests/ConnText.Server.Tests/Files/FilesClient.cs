using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using ConnText.Contracts.Files;

namespace ConnText.Server.Tests.Files;

/// <summary>A minimal tus 1.0 client and helpers over the files API, as a tus library would speak it.</summary>
internal static class FilesClient
{
    /// <summary>Incompressible bytes, distinct per seed (not a security use: a reproducible pattern).</summary>
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        var block = SHA256.HashData(BitConverter.GetBytes(seed));
        for (var i = 0; i < length; i += block.Length)
        {
            block = SHA256.HashData(block);
            block.AsSpan(0, Math.Min(block.Length, length - i)).CopyTo(bytes.AsSpan(i));
        }

        return bytes;
    }

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static HttpRequestMessage Tus(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        return request;
    }

    public static async Task<HttpResponseMessage> CreateUploadAsync(this HttpClient client, long length, string? filename = "data.bin", byte[]? firstChunk = null)
    {
        using var request = Tus(HttpMethod.Post, "/api/v1/uploads");
        request.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        if (filename is not null)
        {
            request.Headers.Add("Upload-Metadata", "filename " + Convert.ToBase64String(Encoding.UTF8.GetBytes(filename)) + ",filetype " + Convert.ToBase64String("image/png"u8.ToArray()));
        }

        if (firstChunk is not null)
        {
            request.Content = OffsetContent(firstChunk);
        }

        return await client.SendAsync(request);
    }

    public static async Task<string> CreateUploadLocationAsync(this HttpClient client, long length, string filename = "data.bin")
    {
        using var response = await client.CreateUploadAsync(length, filename);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.OriginalString;
    }

    public static ByteArrayContent OffsetContent(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return content;
    }

    public static async Task<HttpResponseMessage> PatchAsync(this HttpClient client, string location, long offset, HttpContent content, string? checksum = null)
    {
        using var request = Tus(HttpMethod.Patch, location);
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        if (checksum is not null)
        {
            request.Headers.Add("Upload-Checksum", checksum);
        }

        request.Content = content;
        return await client.SendAsync(request);
    }

    public static async Task<long> OffsetAsync(this HttpClient client, string location)
    {
        using var request = Tus(HttpMethod.Head, location);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return long.Parse(response.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture);
    }

    public static string Checksum(byte[] bytes) => "sha256 " + Convert.ToBase64String(SHA256.HashData(bytes));

    /// <summary>Uploads with tus in one PATCH; returns the stored file's id.</summary>
    public static async Task<Guid> TusUploadAsync(this HttpClient client, byte[] bytes, string filename = "data.bin")
    {
        var location = await client.CreateUploadLocationAsync(bytes.Length, filename);
        using var response = await client.PatchAsync(location, 0, OffsetContent(bytes), Checksum(bytes));
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        return Guid.Parse(response.Headers.GetValues("ConnText-File-Id").Single());
    }

    public static async Task<HttpResponseMessage> SimpleUploadAsync(this HttpClient client, byte[] bytes, string name, bool chunked = false)
    {
        HttpContent content = chunked ? new StreamContent(new NonSeekableStream(bytes)) : new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/files?name=" + Uri.EscapeDataString(name)) { Content = content };
        // As a careful client does: the server may refuse from the headers (size, quota) before reading the body;
        // without this, a refusal that closes the connection while the body is still being written is a broken pipe.
        request.Headers.ExpectContinue = true;
        if (chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        return await client.SendAsync(request);
    }

    public static async Task<FileResponse> UploadFileAsync(this HttpClient client, byte[] bytes, string name = "file.bin")
    {
        using var response = await client.SimpleUploadAsync(bytes, name);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<FileResponse>())!;
    }

    public static async Task<FileResponse> MetadataAsync(this HttpClient client, Guid fileId) =>
        (await client.GetFromJsonAsync<FileResponse>($"/api/v1/files/{fileId}/metadata"))!;

    /// <summary>Files in a directory tree of the server's data directory (none when it does not exist).</summary>
    public static string[] FilesUnder(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, "*", SearchOption.AllDirectories) : [];

    /// <summary>A stream whose length is unknown, so HttpClient sends it chunked (no Content-Length).</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>Sends <paramref name="prefix"/> bytes, then fails as a dropped connection does: the request is aborted mid-body.</summary>
internal sealed class InterruptedContent(byte[] bytes, int prefix) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(bytes.AsMemory(0, prefix));
        await stream.FlushAsync();
        // Give the server time to receive and write the prefix before the connection goes.
        await Task.Delay(500);
        throw new IOException("simulated network failure");
    }

    protected override bool TryComputeLength(out long length)
    {
        length = bytes.Length;
        return true;
    }
}
