using ConnText.Client.Api;
using ConnText.Client.Sessions;
using ConnText.Contracts.Accounts;
using ConnText.Contracts.Conversations;
using Microsoft.AspNetCore.Components;

namespace ConnText.UI.Components;

/// <summary>User search (the server's directory) and creation of a direct or group conversation.</summary>
public sealed partial class NewConversation
{
    private readonly Dictionary<Guid, UserSummary> chosen = [];
    private IReadOnlyList<UserSummary> results = [];
    private string query = "";
    private string title = "";
    private string? error;
    private bool busy;
    private bool peerToPeer;

    [Parameter]
    [EditorRequired]
    public AccountSession Session { get; set; } = null!;

    [Parameter]
    public EventCallback<ConversationResponse> OnCreated { get; set; }

    [Parameter]
    public EventCallback OnCancel { get; set; }

    private bool IsGroup => chosen.Count > 1 || !string.IsNullOrWhiteSpace(title);

    private async Task SearchAsync()
    {
        var asked = query.Trim();
        if (asked.Length == 0)
        {
            results = [];
            return;
        }

        try
        {
            var page = await Session.Api.SearchUsersAsync(asked, CancellationToken.None);
            if (asked == query.Trim())
            {
                results = page.Items;
                error = null;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or ApiException or TaskCanceledException)
        {
            error = "Search needs a connection to the server.";
        }
    }

    private void Toggle(UserSummary user)
    {
        if (!chosen.Remove(user.Id))
        {
            chosen[user.Id] = user;
        }
    }

    private async Task CreateAsync()
    {
        busy = true;
        try
        {
            var request = IsGroup
                ? new CreateConversationRequest(ConversationKinds.Group, [.. chosen.Keys], title.Trim().Length > 0 ? title.Trim() : null)
                : new CreateConversationRequest(peerToPeer ? ConversationKinds.PeerToPeer : ConversationKinds.Direct, [.. chosen.Keys]);
            var created = await Session.CreateConversationAsync(request, CancellationToken.None);
            await OnCreated.InvokeAsync(created);
        }
        catch (ApiException ex)
        {
            error = ex.Message;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            error = "Creating a conversation needs a connection to the server.";
        }
        finally
        {
            busy = false;
        }
    }
}
