using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using ConnText.Contracts.Files;
using ConnText.Contracts.Problems;
using ConnText.Server.Files;
using ConnText.Server.Tests.Infrastructure;
using ConnText.Server.Tests.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace ConnText.Server.Tests.Files;

/// <summary>Size limits, quotas, the free-space floor and cleanup, each with settings small enough to reach.</summary>
public abstract class FileLimitTests(Provider provider)
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Upload_OversizeAndOverQuota_RefusedWithoutPartialFiles()
    {
        await using var server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Files:MaxFileBytes"] = (2 * MiB).ToString(CultureInfo.InvariantCulture),
            ["ConnText:Files:MaxSimpleUploadBytes"] = MiB.ToString(CultureInfo.InvariantCulture),
            ["ConnText:Files:QuotaBytesPerUser"] = (3 * MiB).ToString(CultureInfo.InvariantCulture),
            ["ConnText:Files:MinFreeDiskBytes"] = "0",
        });
        using var alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        var files = Path.Combine(server.DataDirectory, "files");

        // Over the file size limit: refused up front (tus) or as soon as the body passes it (chunked, no length).
        using (var tooBig = await alice.CreateUploadAsync(2 * MiB + 1))
        {
            await tooBig.AssertProblemAsync(413, ProblemTypes.PayloadTooLarge);
        }

        using (var tooBigSimple = await alice.SimpleUploadAsync(new byte[MiB + 1], "big.bin"))
        {
            await tooBigSimple.AssertProblemAsync(413, ProblemTypes.PayloadTooLarge);
        }

        using (var tooBigChunked = await alice.SimpleUploadAsync(FilesClient.RandomBytes(MiB + 300_000, 9), "big.bin", chunked: true))
        {
            await tooBigChunked.AssertProblemAsync(413, ProblemTypes.PayloadTooLarge);
        }

        // A PATCH longer than the declared length is refused and leaves the upload where it was.
        var location = await alice.CreateUploadLocationAsync(1000);
        using (var overlong = await alice.PatchAsync(location, 0, FilesClient.OffsetContent(new byte[1001])))
        {
            await overlong.AssertProblemAsync(413, ProblemTypes.PayloadTooLarge);
        }

        Assert.Equal(0, await alice.OffsetAsync(location));
        using (var terminate = FilesClient.Tus(HttpMethod.Delete, location))
        {
            (await alice.SendAsync(terminate)).Dispose();
        }

        Assert.Empty(FilesClient.FilesUnder(files));

        // Quota: 2 MiB stored, and unfinished uploads reserve their declared length.
        await alice.TusUploadAsync(FilesClient.RandomBytes(2 * MiB, 10));
        var reserved = await alice.CreateUploadLocationAsync(MiB / 2);
        var usage = await alice.GetFromJsonAsync<FileUsageResponse>("/api/v1/files/usage");
        Assert.Equal((2 * MiB + MiB / 2, 3L * MiB), (usage!.UsedBytes, usage.QuotaBytes));
        using (var overQuota = await alice.CreateUploadAsync(MiB))
        {
            await overQuota.AssertProblemAsync(413, ProblemTypes.QuotaExceeded);
        }

        using (var overQuotaSimple = await alice.SimpleUploadAsync(new byte[MiB], "more.bin"))
        {
            await overQuotaSimple.AssertProblemAsync(413, ProblemTypes.QuotaExceeded);
        }

        using (var overQuotaChunked = await alice.SimpleUploadAsync(FilesClient.RandomBytes(MiB - 1000, 11), "more.bin", chunked: true))
        {
            await overQuotaChunked.AssertProblemAsync(413, ProblemTypes.QuotaExceeded);
        }

        // Only the stored file and the reserved (empty) upload are on disk.
        Assert.Single(FilesClient.FilesUnder(Path.Combine(files, "sha256")));
        Assert.Equal(Guid.Parse(reserved.Split('/')[^1]).ToString("N") + ".part",
            Path.GetFileName(Assert.Single(FilesClient.FilesUnder(Path.Combine(files, "uploads")))));
    }

    [Fact]
    public async Task Upload_DiskBelowFreeSpaceFloor_Refused507()
    {
        await using var server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Files:MinFreeDiskBytes"] = long.MaxValue.ToString(CultureInfo.InvariantCulture),
        });
        using var alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        using (var tus = await alice.CreateUploadAsync(10))
        {
            await tus.AssertProblemAsync(507, ProblemTypes.InsufficientStorage);
        }

        using (var simple = await alice.SimpleUploadAsync(new byte[10], "a.bin"))
        {
            await simple.AssertProblemAsync(507, ProblemTypes.InsufficientStorage);
        }

        Assert.Empty(FilesClient.FilesUnder(Path.Combine(server.DataDirectory, "files")));
    }

    [Fact]
    public async Task Cleanup_ExpiredUploadsAndUnreferencedFiles_Deleted()
    {
        await using var server = await ServerInstance.StartAsync(provider, new Dictionary<string, string?>
        {
            ["ConnText:Files:UploadExpiration"] = "00:00:01",
            ["ConnText:Files:UnreferencedFileGracePeriod"] = "00:00:01",
            ["ConnText:Files:MinFreeDiskBytes"] = "0",
        });
        using var alice = await SignedInUsers.RegisterAndSignInAsync(server, "alice");
        using var bob = await SignedInUsers.RegisterAndSignInAsync(server, "bob");
        var files = Path.Combine(server.DataDirectory, "files");
        var janitor = server.Services.GetRequiredService<FileJanitor>();

        var location = await alice.CreateUploadLocationAsync(1000);
        using (var part = await alice.PatchAsync(location, 0, FilesClient.OffsetContent(new byte[400])))
        {
            Assert.Equal(HttpStatusCode.NoContent, part.StatusCode);
        }

        var loose = await alice.UploadFileAsync(FilesClient.RandomBytes(5000, 12), "loose.bin");
        var kept = await alice.UploadFileAsync(FilesClient.RandomBytes(5000, 13), "kept.bin");
        var group = await alice.CreateGroupAsync("keep", await bob.MyIdAsync());
        using (var sent = await alice.PostAsJsonAsync($"/api/v1/conversations/{group.Id}/messages",
                   new ConnText.Contracts.Conversations.SendMessageRequest(Guid.NewGuid(), "kept", AttachmentIds: [kept.Id])))
        {
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        }

        await Task.Delay(1500);
        using (var expired = await alice.PatchAsync(location, 400, FilesClient.OffsetContent(new byte[600])))
        {
            await expired.AssertProblemAsync(410, ProblemTypes.UploadExpired);
        }

        var (uploads, removed) = await janitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal((1, 1), (uploads, removed));
        Assert.Empty(FilesClient.FilesUnder(Path.Combine(files, "uploads")));
        using (var head = FilesClient.Tus(HttpMethod.Head, location))
        using (var gone = await alice.SendAsync(head))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        using (var looseGone = await alice.GetAsync($"/api/v1/files/{loose.Id}"))
        {
            await looseGone.AssertProblemAsync(404, ProblemTypes.NotFound);
        }

        Assert.Equal(kept.Sha256, Path.GetFileName(Assert.Single(FilesClient.FilesUnder(Path.Combine(files, "sha256")))));
        Assert.Equal(200, (int)(await bob.GetAsync($"/api/v1/files/{kept.Id}")).StatusCode);
    }
}

public sealed class SqliteFileLimitTests() : FileLimitTests(Provider.Sqlite);

public sealed class PostgresFileLimitTests() : FileLimitTests(Provider.Postgres);
