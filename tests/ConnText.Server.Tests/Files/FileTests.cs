using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using ConnText.Contracts.Conversations;
using ConnText.Contracts.Files;
using ConnText.Contracts.Problems;
using ConnText.Server.Files;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ConnText.Server.Tests.Files;

public abstract class FileTests(Provider provider) : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private ServerInstance server = null!;
    private HttpClient alice = null!;
    private HttpClient bob = null!;
    private Guid bobId;

    public async Task InitializeAsync()
    {
        server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Files:MaxFileBytes"] = (16 * MiB).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ConnText:Files:MinFreeDiskBytes"] = "0",
        });
        alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        bobId = await bob.MyIdAsync();
    }

    public async Task DisposeAsync()
    {
        alice.Dispose();
        bob.Dispose();
        await server.DisposeAsync();
    }

    private string FilesDirectory => Path.Combine(server.DataDirectory, "files");

    [Fact]
    public async Task Tus_Options_AdvertisesVersionExtensionsAndLimits()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/uploads");
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("1.0.0", response.Headers.GetValues("Tus-Version").Single());
        Assert.Equal("1.0.0", response.Headers.GetValues("Tus-Resumable").Single());
        Assert.Equal(["creation", "creation-with-upload", "termination", "checksum", "expiration"],
            response.Headers.GetValues("Tus-Extension").Single().Split(','));
        Assert.Equal((16 * MiB).ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("Tus-Max-Size").Single());
        Assert.Equal("sha256", response.Headers.GetValues("Tus-Checksum-Algorithm").Single());

        using var noVersion = new HttpRequestMessage(HttpMethod.Post, "/api/v1/uploads");
        noVersion.Headers.Add("Upload-Length", "10");
        using var refused = await alice.SendAsync(noVersion);
        await refused.AssertProblemAsync(412, ProblemTypes.TusVersionUnsupported);
        Assert.Equal("1.0.0", refused.Headers.GetValues("Tus-Version").Single());
    }

    [Fact]
    public async Task Tus_InterruptedMidStream_ResumesFromServerOffsetWithMatchingSha256()
    {
        // Larger than DirectWrites.FromOffset: the bulk of both PATCHes is written around the page cache.
        var data = FilesClient.RandomBytes(11 * MiB + 12345, seed: 1);
        using var created = await alice.CreateUploadAsync(data.Length, "holiday.bin");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var location = created.Headers.Location!.OriginalString;
        Assert.StartsWith("/api/v1/uploads/", location, StringComparison.Ordinal);
        Assert.True(created.Headers.Contains("Upload-Expires"));
        Assert.Equal(0, await alice.OffsetAsync(location));

        // Not a multiple of the server's 1 MiB copy buffer nor of a 4 KiB direct-write block, and past the 8 MiB where
        // direct writes start: every byte received before the drop counts, and the resumed PATCH starts unaligned.
        const int Sent = (9 * MiB) + 4321;
        var interrupted = new InterruptedContent(data, Sent);
        interrupted.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        await Assert.ThrowsAnyAsync<Exception>(() => alice.PatchAsync(location, 0, interrupted));

        // The server acknowledges what it received before the drop; the client resumes from there.
        long offset = 0;
        for (var i = 0; i < 50 && offset == 0; i++)
        {
            await Task.Delay(100);
            offset = await alice.OffsetAsync(location);
        }

        // Every byte the server received before the drop is acknowledged (the client waited for them to arrive).
        Assert.Equal(Sent, offset);

        // A PATCH at the wrong offset is refused and told the right one.
        using (var wrong = await alice.PatchAsync(location, offset + 1, FilesClient.OffsetContent([1, 2, 3])))
        {
            await wrong.AssertProblemAsync(409, ProblemTypes.UploadOffsetMismatch);
            Assert.Equal(offset.ToString(System.Globalization.CultureInfo.InvariantCulture), wrong.Headers.GetValues("Upload-Offset").Single());
        }

        var rest = data[(int)offset..];
        using var resumed = await alice.PatchAsync(location, offset, FilesClient.OffsetContent(rest), FilesClient.Checksum(rest));
        Assert.True(resumed.StatusCode == HttpStatusCode.NoContent, await resumed.Content.ReadAsStringAsync());
        Assert.Equal(data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), resumed.Headers.GetValues("Upload-Offset").Single());
        var fileId = Guid.Parse(resumed.Headers.GetValues("ConnText-File-Id").Single());

        var file = await alice.MetadataAsync(fileId);
        Assert.Equal(FilesClient.Sha256Hex(data), file.Sha256);
        Assert.Equal(data.Length, file.Size);
        Assert.Equal("holiday.bin", file.Name);
        Assert.Equal("application/octet-stream", file.ContentType); // the claimed image/png is ignored
        Assert.Equal(data, await alice.GetByteArrayAsync($"/api/v1/files/{fileId}"));
        Assert.Empty(FilesClient.FilesUnder(Path.Combine(FilesDirectory, "uploads")));
    }

    [Fact]
    public async Task Tus_ResumedAfterHashStateLost_RehashesPartialFile()
    {
        var data = FilesClient.RandomBytes(MiB + 7, seed: 2);
        var location = await alice.CreateUploadLocationAsync(data.Length);
        var first = data[..500_000];
        using (var response = await alice.PatchAsync(location, 0, FilesClient.OffsetContent(first)))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        // As after a restart or when another node took the first PATCH: no in-memory hash for this upload.
        server.Services.GetRequiredService<FileIngest>().Forget(Guid.Parse(location.Split('/')[^1]));
        var rest = data[500_000..];
        using var completed = await alice.PatchAsync(location, 500_000, FilesClient.OffsetContent(rest));
        Assert.Equal(HttpStatusCode.NoContent, completed.StatusCode);
        var file = await alice.MetadataAsync(Guid.Parse(completed.Headers.GetValues("ConnText-File-Id").Single()));
        Assert.Equal(FilesClient.Sha256Hex(data), file.Sha256);
    }

    [Fact]
    public async Task Tus_ChecksumMismatch_Returns460AndDiscardsChunk()
    {
        var data = FilesClient.RandomBytes(200_000, seed: 3);
        var location = await alice.CreateUploadLocationAsync(data.Length);
        using (var bad = await alice.PatchAsync(location, 0, FilesClient.OffsetContent(data), FilesClient.Checksum(data[..10])))
        {
            await bad.AssertProblemAsync(460, ProblemTypes.ChecksumMismatch);
        }

        Assert.Equal(0, await alice.OffsetAsync(location));
        using (var unsupported = await alice.PatchAsync(location, 0, FilesClient.OffsetContent(data), "md5 AAAA"))
        {
            await unsupported.AssertProblemAsync(400, ProblemTypes.MalformedRequest);
        }

        using (var notOctet = await alice.PatchAsync(location, 0, new ByteArrayContent(data)))
        {
            await notOctet.AssertProblemAsync(415, ProblemTypes.UnsupportedMediaType);
        }

        using var good = await alice.PatchAsync(location, 0, FilesClient.OffsetContent(data), FilesClient.Checksum(data));
        Assert.Equal(HttpStatusCode.NoContent, good.StatusCode);
        var file = await alice.MetadataAsync(Guid.Parse(good.Headers.GetValues("ConnText-File-Id").Single()));
        Assert.Equal(FilesClient.Sha256Hex(data), file.Sha256);
    }

    [Fact]
    public async Task Tus_CreationWithUploadAndTermination_Work()
    {
        var data = Encoding.UTF8.GetBytes("hello, tus");
        using (var created = await alice.CreateUploadAsync(data.Length, "hello.txt", data))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal("10", created.Headers.GetValues("Upload-Offset").Single());
            var file = await alice.MetadataAsync(Guid.Parse(created.Headers.GetValues("ConnText-File-Id").Single()));
            Assert.Equal(("hello.txt", "text/plain"), (file.Name, file.ContentType));
        }

        var location = await alice.CreateUploadLocationAsync(100);
        using (var part = await alice.PatchAsync(location, 0, FilesClient.OffsetContent(new byte[40])))
        {
            Assert.Equal(HttpStatusCode.NoContent, part.StatusCode);
        }

        Assert.Single(FilesClient.FilesUnder(Path.Combine(FilesDirectory, "uploads")));
        using (var head = FilesClient.Tus(HttpMethod.Head, location))
        using (var others = await bob.SendAsync(head))
        {
            Assert.Equal(HttpStatusCode.NotFound, others.StatusCode); // not bob's upload
        }

        using (var terminate = FilesClient.Tus(HttpMethod.Delete, location))
        using (var terminated = await alice.SendAsync(terminate))
        {
            Assert.Equal(HttpStatusCode.NoContent, terminated.StatusCode);
        }

        Assert.Empty(FilesClient.FilesUnder(Path.Combine(FilesDirectory, "uploads")));
        using var gone = await alice.PatchAsync(location, 40, FilesClient.OffsetContent(new byte[60]));
        await gone.AssertProblemAsync(404, ProblemTypes.NotFound);
    }

    [Fact]
    public async Task Upload_HostileNames_AreNeutralised()
    {
        foreach (var (hostile, expected) in new[]
                 {
                     ("../../etc/passwd", "passwd"),
                     ("..\\..\\Windows\\win.ini", "win.ini"),
                     ("report\u202Egpj.exe", "reportgpj.exe"),
                     ("a\r\nb\u0000c\u0007.txt", "abc.txt"),
                     ("CON.txt", "_CON.txt"),
                     ("..", "file"),
                 })
        {
            var file = await alice.UploadFileAsync("content"u8.ToArray(), hostile);
            Assert.Equal(expected, file.Name);
            using var download = await alice.GetAsync($"/api/v1/files/{file.Id}");
            var disposition = download.Content.Headers.ContentDisposition!;
            Assert.Equal("attachment", disposition.DispositionType);
            Assert.Equal(expected, disposition.FileNameStar);
        }

        // Nothing was written outside the store, whatever the names said.
        Assert.Equal(["files", "keys"], Directory.GetDirectories(server.DataDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Upload_TwoIdenticalConcurrent_StoredOnce()
    {
        var data = FilesClient.RandomBytes(2 * MiB, seed: 4);
        using var start = new SemaphoreSlim(0);
        var uploads = new[] { alice, bob }.Select(async client =>
        {
            await start.WaitAsync();
            return await client.TusUploadAsync(data, "same.bin");
        }).ToList();
        start.Release(2);
        var ids = await Task.WhenAll(uploads);

        Assert.NotEqual(ids[0], ids[1]);
        var blobs = FilesClient.FilesUnder(Path.Combine(FilesDirectory, "sha256"));
        Assert.Equal(FilesClient.Sha256Hex(data), Path.GetFileName(Assert.Single(blobs)));
        Assert.Equal(data, await alice.GetByteArrayAsync($"/api/v1/files/{ids[0]}"));
        Assert.Equal(data, await bob.GetByteArrayAsync($"/api/v1/files/{ids[1]}"));
    }

    [Fact]
    public async Task Download_Ranges_AreByteExact()
    {
        var data = FilesClient.RandomBytes(100_000, seed: 5);
        var file = await alice.UploadFileAsync(data, "data.bin");
        var url = $"/api/v1/files/{file.Id}";

        foreach (var (from, to) in new (long?, long?)[] { (0, 0), (0, 9), (99_990, 99_999), (12_345, 67_890), (50_000, null), (null, 500), (99_000, 200_000) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Range = new RangeHeaderValue(from, to);
            using var response = await alice.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            var start = from ?? data.Length - to!.Value;
            var end = from is null ? data.Length - 1 : Math.Min(to ?? data.Length - 1, data.Length - 1);
            Assert.Equal(data[(int)start..(int)(end + 1)], await response.Content.ReadAsByteArrayAsync());
            Assert.Equal($"bytes {start}-{end}/{data.Length}", response.Content.Headers.ContentRange!.ToString());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, url))
        {
            request.Headers.Range = new RangeHeaderValue(200_000, 300_000);
            using var unsatisfiable = await alice.SendAsync(request);
            await unsatisfiable.AssertProblemAsync(416, ProblemTypes.RangeNotSatisfiable);
            Assert.Equal($"bytes */{data.Length}", unsatisfiable.Content.Headers.ContentRange!.ToString());
        }

        using var full = await alice.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(data, await full.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes", full.Headers.AcceptRanges.Single());
        Assert.Equal("application/octet-stream", full.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", full.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("default-src 'none'; sandbox", full.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal($"\"{FilesClient.Sha256Hex(data)}\"", full.Headers.ETag!.Tag);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(full.Headers.ETag!);
        using var notModified = await alice.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task Access_UploaderMemberNonMemberAnonymous()
    {
        var png = await PngAsync(640, 480);
        var file = await alice.UploadFileAsync(png, "photo.png");
        Assert.Equal(("image/png", 640, 480), (file.ContentType, file.Width!.Value, file.Height!.Value));
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var urls = new[] { $"/api/v1/files/{file.Id}", $"/api/v1/files/{file.Id}/metadata", $"/api/v1/files/{file.Id}/thumbnail" };

        async Task ExpectAsync(HttpClient client, int status)
        {
            foreach (var url in urls)
            {
                using var response = await client.GetAsync(url);
                if (status == 200)
                {
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                else
                {
                    await response.AssertProblemAsync(status, status == 401 ? ProblemTypes.Unauthorized : ProblemTypes.NotFound);
                }
            }
        }

        await ExpectAsync(alice, 200);
        await ExpectAsync(bob, 404); // not shared yet
        await ExpectAsync(server.Client, 401);

        var group = await alice.CreateGroupAsync("photos", bobId);
        using var sent = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages",
            new SendMessageRequest(Guid.NewGuid(), null, AttachmentIds: [file.Id]));
        Assert.True(sent.StatusCode == HttpStatusCode.Created, await sent.Content.ReadAsStringAsync());
        var message = (await sent.Content.ReadFromJsonAsync<MessageResponse>())!;
        Assert.Null(message.Text);
        Assert.Equal(file.Id, Assert.Single(message.Attachments).Id);

        await ExpectAsync(alice, 200);
        await ExpectAsync(bob, 200);
        await ExpectAsync(carol, 404);
        await ExpectAsync(server.Client, 401);

        // The image is shown inline; the thumbnail fits the configured box.
        using (var inline = await bob.GetAsync(urls[0]))
        {
            Assert.Equal("inline", inline.Content.Headers.ContentDisposition!.DispositionType);
            Assert.Equal("image/png", inline.Content.Headers.ContentType!.MediaType);
        }

        using (var thumbnail = Image.Load<Rgba32>(await bob.GetByteArrayAsync(urls[2])))
        {
            Assert.Equal((320, 240), (thumbnail.Width, thumbnail.Height));
        }

        var cached = Assert.Single(FilesClient.FilesUnder(Path.Combine(FilesDirectory, "thumbnails")));
        var written = File.GetLastWriteTimeUtc(cached);
        await Task.Delay(50);
        (await alice.GetAsync(urls[2])).Dispose();
        Assert.Equal(written, File.GetLastWriteTimeUtc(cached)); // made once, then served from disk

        // Deleting the message withdraws the file from the conversation, for everyone; the uploader keeps it.
        using (var deleted = await alice.DeleteAsync($"/api/v1/conversations/{group.Id}/messages/{message.Id}"))
        {
            var tombstone = (await deleted.Content.ReadFromJsonAsync<MessageResponse>())!;
            Assert.Empty(tombstone.Attachments);
        }

        await ExpectAsync(bob, 404);
        await ExpectAsync(alice, 200);
    }

    [Fact]
    public async Task Send_Attachments_OnlyFilesTheSenderMayShare()
    {
        var mine = await alice.UploadFileAsync("alice's notes"u8.ToArray(), "notes.txt");
        var bobs = await bob.UploadFileAsync("bob's secret"u8.ToArray(), "secret.txt");
        var group = await alice.CreateGroupAsync("share", bobId);

        // Someone else's file that was never shared with the sender: refused like a missing one.
        foreach (var ids in new[] { new[] { bobs.Id }, [Guid.NewGuid()], [mine.Id, mine.Id], Enumerable.Range(0, 11).Select(_ => mine.Id).ToArray() })
        {
            using var refused = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages",
                new SendMessageRequest(Guid.NewGuid(), "look", AttachmentIds: ids));
            var problem = await refused.AssertProblemAsync(400, ProblemTypes.Validation);
            Assert.True(problem.GetProperty("errors").TryGetProperty("attachmentIds", out _));
        }

        var notesClientId = Guid.NewGuid();
        Guid notesId;
        using (var sent = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages",
                   new SendMessageRequest(notesClientId, "my notes", AttachmentIds: [mine.Id])))
        {
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
            notesId = (await sent.Content.ReadFromJsonAsync<MessageResponse>())!.Id;
        }

        // A retry (the answer was lost) is answered with the stored message and its file, not checked again.
        using (var retried = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages",
                   new SendMessageRequest(notesClientId, "my notes", AttachmentIds: [mine.Id])))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
            var stored = (await retried.Content.ReadFromJsonAsync<MessageResponse>())!;
            Assert.Equal((notesId, mine.Id), (stored.Id, Assert.Single(stored.Attachments).Id));
        }

        // Bob may forward what was shared with him to a conversation alice is not in.
        using var carol = await SignedInUsers.RegisterAndSignInAsync(server, "carol");
        var (_, direct) = await bob.CreateDirectAsync(await carol.MyIdAsync());
        using (var forwarded = await bob.PostAsJsonAsync($"/api/v1/conversations/{direct.Id}/messages",
                   new SendMessageRequest(Guid.NewGuid(), "", AttachmentIds: [mine.Id, bobs.Id])))
        {
            Assert.True(forwarded.StatusCode == HttpStatusCode.Created, await forwarded.Content.ReadAsStringAsync());
        }

        var history = await carol.HistoryAsync(direct.Id, "after=0");
        Assert.Equal([mine.Id, bobs.Id], Assert.Single(history.Items).Attachments.Select(a => a.Id));
        Assert.Equal("alice's notes"u8.ToArray(), await carol.GetByteArrayAsync($"/api/v1/files/{mine.Id}"));
    }

    [Fact]
    public async Task Thumbnail_DecompressionBomb_RefusedWithoutDecoding()
    {
        // 100,000 × 100,000 pixels (40 GB of RGBA) in a file of a few dozen bytes.
        var bomb = await alice.UploadFileAsync(PngHeaderOnly(100_000, 100_000), "bomb.png");
        Assert.Equal(("image/png", 100_000), (bomb.ContentType, bomb.Width!.Value));
        using var thumbnail = await alice.GetAsync($"/api/v1/files/{bomb.Id}/thumbnail");
        await thumbnail.AssertProblemAsync(422, ProblemTypes.ThumbnailUnavailable);
        Assert.Empty(FilesClient.FilesUnder(Path.Combine(FilesDirectory, "thumbnails")));

        var text = await alice.UploadFileAsync("<html><script>alert(1)</script></html>"u8.ToArray(), "page.png");
        Assert.Equal("text/plain", text.ContentType);
        using var notImage = await alice.GetAsync($"/api/v1/files/{text.Id}/thumbnail");
        await notImage.AssertProblemAsync(422, ProblemTypes.ThumbnailUnavailable);
        using var download = await alice.GetAsync($"/api/v1/files/{text.Id}");
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition!.DispositionType);
    }

    private static async Task<byte[]> PngAsync(int width, int height)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32(10, 120, 200));
        using var stream = new MemoryStream();
        await image.SaveAsPngAsync(stream);
        return stream.ToArray();
    }

    /// <summary>A PNG signature and IHDR claiming the given size, a tiny IDAT, IEND: valid headers, no real pixels.</summary>
    internal static byte[] PngHeaderOnly(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 6; // RGBA
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(MemoryStream png, string type, byte[] data)
    {
        var header = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        png.Write(header);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, Crc32(typed));
        png.Write(header);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}

public sealed class SqliteFileTests() : FileTests(Provider.Sqlite);

public sealed class PostgresFileTests() : FileTests(Provider.Postgres);
