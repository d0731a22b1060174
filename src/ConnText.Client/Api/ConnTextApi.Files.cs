using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using ConnText.Contracts.Files;

namespace ConnText.Client.Api;

/// <summary>File uploads (tus 1.0, resumable, in chunks) and downloads.</summary>
public sealed partial class ConnTextApi
{
    /// <summary>The size of each upload request: small enough for a steady progress bar, large enough to keep requests few.</summary>
    public const int UploadChunkBytes = 1024 * 1024;

    /// <summary>
    /// Uploads <paramref name="length"/> bytes of <paramref name="content"/> through the server's tus endpoint, one
    /// <see cref="UploadChunkBytes"/> request at a time (each one buffered, so a token refresh can resend it), reporting
    /// the bytes the server has confirmed to <paramref name="progress"/>. Returns the stored file.
    /// </summary>
    public async Task<FileResponse> UploadAsync(Stream content, long length, string name, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        Uri location;
        string? fileId;
        using (var create = new HttpRequestMessage(HttpMethod.Post, new Uri("uploads", UriKind.Relative)))
        {
            create.Headers.Add(TusHeaders.Resumable, "1.0.0");
            create.Headers.Add(TusHeaders.UploadLength, length.ToString(CultureInfo.InvariantCulture));
            create.Headers.Add(TusHeaders.UploadMetadata, "filename " + Convert.ToBase64String(Encoding.UTF8.GetBytes(name)));
            using var created = await http.SendAsync(create, cancellationToken);
            await EnsureSuccessAsync(created, cancellationToken);
            location = new Uri(http.BaseAddress!, created.Headers.Location ?? throw new ApiException("The server did not say where to upload."));
            fileId = Header(created, TusHeaders.FileId);
        }

        var buffer = new byte[(int)Math.Min(UploadChunkBytes, Math.Max(length, 1))];
        long offset = 0;
        while (fileId is null && offset < length)
        {
            // Fill the chunk: streams (the window's file, over the circuit) hand out far smaller pieces per read.
            var want = (int)Math.Min(buffer.Length, length - offset);
            var read = await content.ReadAtLeastAsync(buffer.AsMemory(0, want), want, throwOnEndOfStream: false, cancellationToken);
            if (read == 0)
            {
                throw new IOException($"The file ended after {offset} of {length} bytes.");
            }

            using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(buffer, 0, read) };
            patch.Headers.Add(TusHeaders.Resumable, "1.0.0");
            patch.Headers.Add(TusHeaders.UploadOffset, offset.ToString(CultureInfo.InvariantCulture));
            patch.Content.Headers.ContentType = new MediaTypeHeaderValue(TusHeaders.OffsetOctetStream);
            using var patched = await http.SendAsync(patch, cancellationToken);
            await EnsureSuccessAsync(patched, cancellationToken);
            offset = long.Parse(Header(patched, TusHeaders.UploadOffset) ?? throw new ApiException("The server did not confirm the upload offset."), CultureInfo.InvariantCulture);
            fileId = Header(patched, TusHeaders.FileId);
            progress?.Report(offset);
        }

        if (fileId is null)
        {
            throw new ApiException("The server did not finish the upload.");
        }

        progress?.Report(length);
        return await GetAsync<FileResponse>($"files/{fileId}/metadata", cancellationToken);
    }

    /// <summary>
    /// A file's bytes (or, with <paramref name="thumbnail"/>, its PNG thumbnail) as the server answers, headers first;
    /// the caller checks the status and disposes the response.
    /// </summary>
    public Task<HttpResponseMessage> OpenFileAsync(Guid fileId, bool thumbnail, CancellationToken cancellationToken) =>
        http.GetAsync(new Uri(thumbnail ? $"files/{fileId}/thumbnail" : $"files/{fileId}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
