using ConnText.Client.Api;
using ConnText.Client.Sessions;
using ConnText.Contracts.Conversations;
using ConnText.UI.Shell;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>The chat header's controls: mute (the server's per-user setting, so every device follows it) and group settings.</summary>
public sealed partial class ChatHeaderActions
{
    private bool busy;
    private string? error;

    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    [Parameter]
    [EditorRequired]
    public ConversationResponse Conversation { get; set; } = null!;

    [Inject]
    private HomeNavigation Navigation { get; set; } = null!;

    private async Task ToggleMuteAsync()
    {
        busy = true;
        error = null;
        try
        {
            await Session.SetMutedAsync(Conversation.Id, !Conversation.Muted, CancellationToken.None);
        }
        catch (ApiException ex)
        {
            error = ex.Message;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ConnText.Client.Auth.SignInRequiredException)
        {
            error = "Muting needs a connection to the server.";
        }
        finally
        {
            busy = false;
        }
    }
}
