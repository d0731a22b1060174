using System.Net.Http.Json;
using System.Security.Cryptography;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Conversations;
using ConnText.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using SixLabors.ImageSharp.PixelFormats;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>Attachments: upload with progress (tus, in chunks), a message carrying them, image previews and downloads.</summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class AttachmentTests(Chromium chromium) : SignedInDesktopTests(chromium)
{
    [Fact]
    public async Task AttachAndSend_ImageAndFile_BobReceivesThemAndAliceSeesPreviewAndDownloads()
    {
        var page = App.Page;
        using var bob = (await App.UserAsync("bob")).Api;
        var alice = await SignedInDesktop.FindAsync(bob, "alice");
        var direct = await SignedInDesktop.CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Direct, [alice.Id]));
        await page.Locator("[data-conversation='bob']").ClickAsync(new() { Timeout = 20_000 });

        // Three chunks for the larger file, so the upload goes through tus PATCHes, not one request.
        var report = RandomNumberGenerator.GetBytes((2 * 1024 * 1024) + 12345);
        var photo = SettingsTests.Png(640, 480, new Rgba32(40, 120, 220));
        await page.Locator("input[type=file][aria-label='Attach files']").SetInputFilesAsync(new[]
        {
            new FilePayload { Name = "photo.png", MimeType = "image/png", Buffer = photo },
            new FilePayload { Name = "report.bin", MimeType = "application/octet-stream", Buffer = report },
        });
        var uploads = page.Locator("li.upload");
        await Expect(uploads).ToHaveCountAsync(2);
        await Expect(page.Locator("li.upload[data-state=uploaded]")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        var bar = page.Locator("li.upload[data-file='report.bin'] progress");
        Assert.Equal(await bar.GetAttributeAsync("max"), await bar.GetAttributeAsync("value"));
        Assert.Equal(report.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), await bar.GetAttributeAsync("max"));

        await DesktopWindow.SendAsync(page, "Holiday **photo** and the report");
        await Expect(uploads).ToHaveCountAsync(0);

        // Bob's app gets the message with both files, in order.
        MessageResponse? received = null;
        for (var i = 0; i < 50 && received is null; i++)
        {
            var history = (await bob.GetFromJsonAsync<MessagePageResponse>($"/api/v1/conversations/{direct.Id}/messages?limit=10"))!;
            received = history.Items.LastOrDefault(m => m.Attachments.Count > 0);
            await Task.Delay(received is null ? 100 : 0);
        }

        Assert.NotNull(received);
        Assert.Equal("Holiday **photo** and the report", received.Text);
        Assert.Equal(new[] { "photo.png", "report.bin" }, received.Attachments.Select(a => a.Name));
        Assert.Equal(((int?)640, (int?)480), (received.Attachments[0].Width, received.Attachments[0].Height));
        Assert.Equal(report.Length, received.Attachments[1].Size);

        // In the window: the image as a thumbnail (through the host), the other file as a download with the same bytes.
        var message = page.Locator($"article.message[data-message-id='{received.Id}']");
        var preview = message.Locator(".attachments img");
        await Expect(preview).ToHaveAttributeAsync("alt", "photo.png");
        var previewWidth = await preview.EvaluateAsync<int>("async img => { await img.decode(); return img.naturalWidth; }");
        Assert.InRange(previewWidth, 1, 639); // a thumbnail, not the full image
        var download = await page.RunAndWaitForDownloadAsync(() => message.GetByRole(AriaRole.Link, new() { Name = "Download report.bin" }).ClickAsync());
        Assert.Equal("report.bin", download.SuggestedFilename);
        var path = await download.PathAsync();
        Assert.Equal(report, await File.ReadAllBytesAsync(path));

        // The list says what was sent, without Markdown.
        await Expect(page.Locator("[data-conversation='bob'] .preview")).ToHaveTextAsync("You: Holiday photo and the report Files: photo.png, report.bin");
        App.Window.AssertNoProblems("in the window");
    }

    [Fact]
    public async Task ImageFromOthers_ShowsAsThumbnailOpeningTheFullImage()
    {
        var page = App.Page;
        using var bob = (await App.UserAsync("bob")).Api;
        var alice = await SignedInDesktop.FindAsync(bob, "alice");
        var direct = await SignedInDesktop.CreateAsync(bob, new CreateConversationRequest(ConversationKinds.Direct, [alice.Id]));
        using var content = new ByteArrayContent(SettingsTests.Png(1200, 600, new Rgba32(10, 160, 90)));
        using var uploaded = await bob.PostAsync("/api/v1/files?name=wide.png", content);
        uploaded.EnsureSuccessStatusCode();
        var file = (await uploaded.Content.ReadFromJsonAsync<ConnText.Contracts.Files.FileResponse>())!;
        using var sent = await bob.PostAsJsonAsync($"/api/v1/conversations/{direct.Id}/messages", new SendMessageRequest(Guid.NewGuid(), null, null, [file.Id]));
        sent.EnsureSuccessStatusCode();

        await page.Locator("[data-conversation='bob']").ClickAsync(new() { Timeout = 20_000 });
        var preview = page.Locator(".attachments img[alt='wide.png']");
        await Expect(preview).ToHaveAttributeAsync("width", "240");
        await Expect(preview).ToHaveAttributeAsync("height", "120");
        var thumbnailWidth = await preview.EvaluateAsync<int>("async img => { await img.decode(); return img.naturalWidth; }");
        Assert.InRange(thumbnailWidth, 1, 1199); // a thumbnail, not the full image

        var link = page.Locator(".attachments a.image");
        var href = await link.GetAttributeAsync("href");
        var full = await page.APIRequest.GetAsync(new Uri(new Uri(page.Url), href).AbsoluteUri);
        Assert.Equal(200, full.Status);
        Assert.Equal("image/png", full.Headers["content-type"]);
        Assert.Contains("sandbox", full.Headers["content-security-policy"], StringComparison.Ordinal);
        using var original = SixLabors.ImageSharp.Image.Load(await full.BodyAsync());
        Assert.Equal(1200, original.Width);
        await Expect(page.Locator("[data-conversation='bob'] .preview")).ToHaveTextAsync("bob: File: wide.png");
        App.Window.AssertNoProblems("in the window");
    }
}
