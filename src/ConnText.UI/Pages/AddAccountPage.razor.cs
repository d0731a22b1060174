using ConnText.Client.Auth;
using ConnText.Client.Sessions;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Pages;

/// <summary>"Add account": asks for the server, then signs in through the system browser (RFC 8252).</summary>
public sealed partial class AddAccountPage : IDisposable
{
    private CancellationTokenSource? signIn;
    private bool interactive;
    private bool waiting;
    private string server = "";
    private string? error;

    [Inject]
    private AccountManager Accounts { get; set; } = null!;

    [Inject]
    private UiPreferences Preferences { get; set; } = null!;

    [Inject]
    private NavigationManager Navigation { get; set; } = null!;

    public void Dispose()
    {
        signIn?.Cancel();
        signIn?.Dispose();
    }

    protected override void OnInitialized() => server = Preferences.DefaultServer;

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            interactive = true;
            StateHasChanged();
        }
    }

    private async Task SignInAsync()
    {
        var address = server.Trim();
        if (!address.Contains("://", StringComparison.Ordinal))
        {
            address = "https://" + address;
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            error = "Enter the server's address, e.g. https://chat.example.org.";
            return;
        }

        error = null;
        waiting = true;
        signIn = new CancellationTokenSource();
        try
        {
            var session = await Accounts.AddAccountAsync(uri, signIn.Token);
            Navigation.NavigateTo("?account=" + session.Account.Id.ToString("D"));
        }
        catch (OperationCanceledException)
        {
            error = "Sign-in cancelled.";
        }
        catch (SignInRequiredException ex)
        {
            error = ex.Message;
        }
        catch (HttpRequestException ex)
        {
            error = $"Could not reach {uri.Authority}: {ex.Message}";
        }
        finally
        {
            waiting = false;
        }
    }

    private void Cancel() => signIn?.Cancel();
}
