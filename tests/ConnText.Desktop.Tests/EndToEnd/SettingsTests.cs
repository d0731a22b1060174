using System.Net;
using System.Net.Http.Json;
using ConnText.Browser.Tests.Infrastructure;
using ConnText.Contracts.Accounts;
using ConnText.Desktop.Tests.Infrastructure;
using ConnText.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static Microsoft.Playwright.Assertions;

namespace ConnText.Desktop.Tests.EndToEnd;

/// <summary>Profile and settings: name, status, picture, theme, do not disturb, and the signed-in devices.</summary>
[Collection(DesktopChromiumGroup.Name)]
public sealed class SettingsTests(Chromium chromium) : SignedInDesktopTests(chromium)
{
    [Fact]
    public async Task Profile_NameStatusPictureThemeAndDoNotDisturb_AreSavedWhereTheyBelong()
    {
        var page = App.Page;
        using var alice = await SignedInUsers.SignInAsync(App.Server, "alice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Profile and settings" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Profile and settings" })).ToBeVisibleAsync();

        // Name and status go to the server; the account column and header follow.
        await Expect(page.GetByLabel("Display name")).ToHaveValueAsync("alice");
        await page.GetByLabel("Display name").FillAsync("Alice Liddell");
        await page.GetByLabel("Status").FillAsync("In Wonderland");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(page.Locator(".panel [role=status]")).ToHaveTextAsync("Profile saved.");
        var profile = (await alice.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!;
        Assert.Equal(("Alice Liddell", "In Wonderland"), (profile.DisplayName, profile.StatusText));
        await Expect(page.Locator(".sidebar-header .who strong")).ToHaveTextAsync("Alice Liddell");

        // The picture is uploaded, cropped by the server and shown through the host (the page never sees a token).
        await page.Locator("input[type=file][aria-label='Change picture']").SetInputFilesAsync(new FilePayload
        {
            Name = "me.png", MimeType = "image/png", Buffer = Png(400, 300, new Rgba32(220, 90, 40)),
        });
        await Expect(page.Locator(".panel [role=status]")).ToHaveTextAsync("Picture changed.");
        Assert.NotNull((await alice.GetFromJsonAsync<ProfileResponse>("/api/v1/me"))!.AvatarUrl);
        var picture = page.Locator(".switcher .avatar-pic img");
        await Expect(picture).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("v="));
        await WaitImageWidthAsync(picture, 256);

        // The theme moved here from the account column.
        await page.GetByRole(AriaRole.Radio, new() { Name = "Dark" }).CheckAsync();
        await Expect(page.Locator(".app[data-theme=dark]")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "Follow the system" }).CheckAsync();
        await Expect(page.Locator(".app[data-theme=auto]")).ToBeVisibleAsync();

        // Do not disturb is this account's, on this device: kept in the account's local store, and survives a reload.
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Do not disturb" }).CheckAsync();
        await Expect(page.GetByRole(AriaRole.Checkbox, new() { Name = "Do not disturb" })).ToBeCheckedAsync();
        await WaitSettingAsync("notifications.doNotDisturb", "true");
        await page.ReloadAsync();
        await DesktopWindow.WaitInteractiveAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Profile and settings" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Checkbox, new() { Name = "Do not disturb" })).ToBeCheckedAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Do not disturb" }).UncheckAsync();
        await WaitSettingAsync("notifications.doNotDisturb", "false");
        App.Window.AssertNoProblems("in the window");
    }

    [Fact]
    public async Task Sessions_SignOutOneThenAllOthers_ThoseDevicesAreRefusedThisOneKeepsWorking()
    {
        var page = App.Page;
        using var phone = await SignedInUsers.SignInAsync(App.Server, "alice");
        using var laptop = await SignedInUsers.SignInAsync(App.Server, "alice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Profile and settings" }).ClickAsync();

        var devices = page.Locator("li.session");
        await Expect(devices).ToHaveCountAsync(3);
        await Expect(page.Locator("li.session[data-current=true]")).ToContainTextAsync("This device");

        // Sign out one other device by its session id, as the list shows it.
        var phoneSession = await CurrentSessionAsync(phone);
        var laptopSession = await CurrentSessionAsync(laptop);
        await page.Locator($"li.session[data-session='{laptopSession}']").GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(devices).ToHaveCountAsync(2);
        await Expect(page.Locator($"li.session[data-session='{laptopSession}']")).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(laptop));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(phone));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out all other devices" }).ClickAsync();
        await Expect(devices).ToHaveCountAsync(1);
        await Expect(page.Locator($"li.session[data-session='{phoneSession}']")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out all other devices" })).ToBeDisabledAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(phone));

        // This device still works.
        await page.GetByLabel("Status").FillAsync("still here");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(page.Locator(".panel [role=status]")).ToHaveTextAsync("Profile saved.");
        await Expect(DesktopWindow.Connection(page)).ToHaveAttributeAsync("data-state", "online");
        App.Window.AssertNoProblems("in the window");
    }

    internal static byte[] Png(int width, int height, Rgba32 color)
    {
        using var image = new Image<Rgba32>(width, height, color);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    internal static async Task WaitImageWidthAsync(ILocator image, int width)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await image.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : 0") == width)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"The image did not load at {width} pixels wide: {await image.EvaluateAsync<int>("img => img.naturalWidth")}.");
    }

    private static async Task<Guid> CurrentSessionAsync(HttpClient api) =>
        (await api.GetFromJsonAsync<List<SessionResponse>>("/api/v1/sessions"))!.Single(s => s.Current).Id;

    private static async Task<HttpStatusCode> StatusAsync(HttpClient api)
    {
        using var response = await api.GetAsync("/api/v1/me");
        return response.StatusCode;
    }

    // The checkbox changes in the page at once; the engine stores the value when the event reaches it.
    private async Task WaitSettingAsync(string key, string expected)
    {
        string? value = null;
        for (var i = 0; i < 100 && value != expected; i++)
        {
            await Task.Delay(i == 0 ? 0 : 100);
            value = await ReadSettingAsync(key);
        }

        Assert.Equal(expected, value);
    }

    private async Task<string?> ReadSettingAsync(string key)
    {
        var store = Directory.GetFiles(Path.Combine(App.Desktop.DataDirectory, "accounts"), "store.db", SearchOption.AllDirectories).Single();
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM settings WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return await command.ExecuteScalarAsync() as string;
    }
}
