using ConnText.Client.Api;
using ConnText.Client.Sessions;
using ConnText.Contracts.Accounts;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;

namespace ConnText.UI.Components;

/// <summary>
/// Profile and settings of one account: display name, status, picture; the theme (of this app, every account);
/// do not disturb (this account on this device); and the signed-in devices, with sign-out.
/// </summary>
public sealed partial class SettingsPanel
{
    private const long MaxAvatarBytes = 5 * 1024 * 1024;

    private static readonly (string Value, string Label)[] Themes = [("auto", "Follow the system"), ("light", "Light"), ("dark", "Dark")];

    private string displayName = "";
    private string statusText = "";
    private List<SessionResponse>? sessions;
    private bool loadingSessions = true;
    private bool busy;
    private string? error;
    private string? notice;
    private AccountSession? loaded;

    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    [Inject]
    private UiPreferences Preferences { get; set; } = null!;

    [Inject]
    private HomeNavigation Navigation { get; set; } = null!;

    protected override async Task OnParametersSetAsync()
    {
        // The parent re-renders on every engine change: load once per account shown, not on each of those.
        if (ReferenceEquals(loaded, Session))
        {
            return;
        }

        loaded = Session;
        displayName = Session.Profile?.DisplayName ?? Session.Account.DisplayName;
        statusText = Session.Profile?.StatusText ?? "";
        await RunAsync(async () =>
        {
            var profile = await Session.RefreshProfileAsync(CancellationToken.None);
            displayName = profile.DisplayName;
            statusText = profile.StatusText ?? "";
        }, offline: "You are offline: the profile and devices show once connected.");
        await LoadSessionsAsync();
    }

    private async Task LoadSessionsAsync()
    {
        loadingSessions = true;
        try
        {
            sessions = await Session.Api.ListSessionsAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or TaskCanceledException)
        {
            sessions = null;
        }
        finally
        {
            loadingSessions = false;
        }
    }

    private Task SaveProfileAsync() => RunAsync(async () =>
    {
        await Session.UpdateProfileAsync(new UpdateProfileRequest(displayName.Trim(), statusText.Trim()), CancellationToken.None);
        notice = "Profile saved.";
    });

    private Task SetAvatarAsync(InputFileChangeEventArgs e) => RunAsync(async () =>
    {
        var file = e.File;
        if (file.Size > MaxAvatarBytes)
        {
            error = "A picture is at most 5 MB.";
            return;
        }

        using var buffer = new MemoryStream();
        await using (var stream = file.OpenReadStream(MaxAvatarBytes))
        {
            await stream.CopyToAsync(buffer);
        }

        await Session.SetAvatarAsync(buffer.ToArray(), string.IsNullOrEmpty(file.ContentType) ? "application/octet-stream" : file.ContentType, CancellationToken.None);
        notice = "Picture changed.";
    });

    private Task RemoveAvatarAsync() => RunAsync(async () =>
    {
        await Session.RemoveAvatarAsync(CancellationToken.None);
        notice = "Picture removed.";
    });

    private void ToggleDoNotDisturb() => Session.DoNotDisturb = !Session.DoNotDisturb;

    private Task RevokeAsync(SessionResponse device) => RunAsync(async () =>
    {
        await Session.Api.RevokeSessionAsync(device.Id, CancellationToken.None);
        notice = $"{device.DeviceName} was signed out.";
        await LoadSessionsAsync();
    });

    private Task RevokeOthersAsync() => RunAsync(async () =>
    {
        await Session.Api.RevokeOtherSessionsAsync(CancellationToken.None);
        notice = "Every other device was signed out.";
        await LoadSessionsAsync();
    });

    private async Task RunAsync(Func<Task> action, string offline = "This needs a connection to the server.")
    {
        busy = true;
        error = null;
        notice = null;
        try
        {
            await action();
        }
        catch (ApiException ex)
        {
            error = ex.Message;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ConnText.Client.Auth.SignInRequiredException or IOException)
        {
            error = offline;
        }
        finally
        {
            busy = false;
        }
    }
}
